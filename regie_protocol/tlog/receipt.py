"""Receipts: C2SP tlog-proof v1, an offline-checkable proof that one event is in the log.

::

    c2sp.org/tlog-proof@v1
    extra <base64>                      (optional, unauthenticated)
    index 73894
    <base64 hash>                       (the inclusion proof, leaf's sibling first, 0 to 64 lines)

    <the signed checkpoint, verbatim, with any witness cosignatures>

A person (or a verifier) keeps a receipt for an event; anyone holding the log's
verifier key, and the witness keys they trust, can later check with
:func:`verify_receipt` that the event's leaf hash is entry ``index`` of a tree
the log signed, without asking the log.

:meth:`Receipt.parse` checks the receipt's own lines strictly and keeps the
checkpoint bytes as they are: they are parsed and verified by
:func:`verify_receipt` (through :func:`~.checkpoint.open_checkpoint`), never
trusted before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import Code, MalformedInput, Misuse
from .checkpoint import MAX_TREE_SIZE, OpenedCheckpoint, open_checkpoint
from .merkle import HASH_SIZE, verify_inclusion
from .note import MAX_NOTE_BYTES, NoteVerifier, b64decode_std, b64encode_std, parse_decimal

HEADER = "c2sp.org/tlog-proof@v1"
#: an inclusion proof in a tree of at most 2**64 - 1 entries has at most 64 hashes
MAX_PROOF_LINES = 64
#: the opaque extra data, decoded
MAX_EXTRA_BYTES = 4096
#: header, extra, index and 64 proof lines, then a checkpoint of at most MAX_NOTE_BYTES
MAX_RECEIPT_BYTES = MAX_NOTE_BYTES + 2 * MAX_EXTRA_BYTES + 64 * 64

_CONTROL = frozenset(range(0x20)) - {0x0A}


@dataclass(frozen=True, slots=True)
class Receipt:
    """An inclusion proof for entry ``index`` and the signed checkpoint it leads to (unverified)."""

    index: int
    proof: tuple[bytes, ...]
    checkpoint: bytes
    extra: bytes | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.index < MAX_TREE_SIZE:
            raise Misuse(f"an entry index is between 0 and 2**64 - 2, not {self.index}")
        if len(self.proof) > MAX_PROOF_LINES or any(len(h) != HASH_SIZE for h in self.proof):
            raise Misuse(f"an inclusion proof is at most {MAX_PROOF_LINES} SHA-256 hashes")
        if self.extra is not None and len(self.extra) > MAX_EXTRA_BYTES:
            raise Misuse(f"a receipt's extra data is at most {MAX_EXTRA_BYTES} bytes")
        try:
            self.checkpoint.decode("utf-8")
        except UnicodeDecodeError:
            raise Misuse("a receipt's checkpoint is a signed note in UTF-8") from None

    def render(self) -> str:
        """The ``.tlog-proof`` text."""
        lines = [HEADER]
        if self.extra is not None:
            lines.append(f"extra {b64encode_std(self.extra)}")
        lines.append(f"index {self.index}")
        lines.extend(b64encode_std(h) for h in self.proof)
        return "\n".join(lines) + "\n\n" + self.checkpoint.decode("utf-8")

    @classmethod
    def parse(cls, text: str | bytes) -> Receipt:
        """Read a ``.tlog-proof`` text; :class:`MalformedInput` names the first thing wrong."""
        data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
        if len(data) > MAX_RECEIPT_BYTES:
            raise MalformedInput(
                f"a receipt is at most {MAX_RECEIPT_BYTES} bytes, not {len(data)}",
                code=Code.SIZE_EXCEEDED,
            )
        blank = data.find(b"\n\n")
        if blank < 0:
            raise MalformedInput("a receipt has an empty line between the proof and checkpoint")
        try:
            lines = data[:blank].decode("ascii").split("\n")
        except UnicodeDecodeError:
            raise MalformedInput("the lines before a receipt's checkpoint are ASCII") from None
        if lines[0] != HEADER:
            raise MalformedInput(f"a receipt starts with the line {HEADER!r}")
        at = 1
        extra = None
        if at < len(lines) and lines[at].startswith("extra "):
            extra = b64decode_std(lines[at][len("extra ") :], what="the receipt's extra data")
            if len(extra) > MAX_EXTRA_BYTES:
                raise MalformedInput(
                    f"a receipt's extra data is at most {MAX_EXTRA_BYTES} bytes",
                    code=Code.SIZE_EXCEEDED,
                )
            at += 1
        if at >= len(lines) or not lines[at].startswith("index "):
            raise MalformedInput("a receipt has the line 'index <entry number>' after its header")
        index = parse_decimal(
            lines[at][len("index ") :], what="the receipt's index", maximum=MAX_TREE_SIZE - 1
        )
        hashes = lines[at + 1 :]
        if len(hashes) > MAX_PROOF_LINES:
            raise MalformedInput(
                f"a receipt has at most {MAX_PROOF_LINES} proof lines, not {len(hashes)}",
                code=Code.SIZE_EXCEEDED,
            )
        proof = []
        for number, line in enumerate(hashes, start=1):
            value = b64decode_std(line, what=f"proof line {number} of the receipt")
            if len(value) != HASH_SIZE:
                raise MalformedInput(
                    f"proof line {number} of the receipt is {len(value)} bytes, not a SHA-256 hash"
                )
            proof.append(value)
        checkpoint = data[blank + 2 :]
        _check_checkpoint_text(checkpoint)
        return cls(index=index, proof=tuple(proof), checkpoint=checkpoint, extra=extra)


def _check_checkpoint_text(checkpoint: bytes) -> None:
    """Form only: the signed note is parsed and verified by :func:`verify_receipt`."""
    if not checkpoint:
        raise MalformedInput("the receipt has no checkpoint after its empty line")
    if len(checkpoint) > MAX_NOTE_BYTES:
        raise MalformedInput(
            f"the receipt's checkpoint is more than {MAX_NOTE_BYTES} bytes",
            code=Code.SIZE_EXCEEDED,
        )
    try:
        checkpoint.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedInput("the receipt's checkpoint is not valid UTF-8") from None
    if not checkpoint.endswith(b"\n"):
        raise MalformedInput("the receipt's checkpoint does not end with a newline")
    if not _CONTROL.isdisjoint(checkpoint):
        raise MalformedInput("the receipt's checkpoint contains a control character")


def verify_receipt(
    receipt: Receipt,
    *,
    leaf_hash: bytes,
    log: NoteVerifier,
    witnesses: Sequence[NoteVerifier] = (),
    quorum: int = 0,
) -> OpenedCheckpoint:
    """Check that ``leaf_hash`` is entry ``receipt.index`` of a checkpoint ``log`` signed.

    The checkpoint must open under ``log`` with ``quorum`` of ``witnesses``
    (see :func:`~.checkpoint.open_checkpoint` for those refusals); the
    inclusion proof must then lead from the leaf to its root
    (``LOG_PROOF_INVALID``). The extra data is not looked at: it is not signed.
    """
    opened = open_checkpoint(receipt.checkpoint, log, witnesses=witnesses, quorum=quorum)
    tree = opened.checkpoint
    verify_inclusion(leaf_hash, receipt.index, tree.size, receipt.proof, tree.root)
    return opened


__all__ = [
    "HEADER",
    "MAX_EXTRA_BYTES",
    "MAX_PROOF_LINES",
    "MAX_RECEIPT_BYTES",
    "Receipt",
    "verify_receipt",
]
