"""Checkpoints (C2SP tlog-checkpoint v1): the signed tree head of the consent log.

A checkpoint is a signed note whose text is exactly three lines: the log's
origin, the tree size in decimal, and the base64 root hash::

    wallet.example/log
    20852163
    CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

    — wallet.example/log Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/...
    — witness.example/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dl...

Regie never writes extension lines (the spec advises against them: monitors
cannot audit them), so a checkpoint with a fourth line is refused rather than
half-understood. The log signs with an Ed25519 note key (type 0x01) whose name
is the origin; witnesses add ``cosignature/v1`` lines (type 0x04).

:func:`open_checkpoint` is the one way to read a checkpoint: it parses, checks
the log's signature, the origin and the witness quorum the caller asks for,
and only then hands out the :class:`Checkpoint`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import Code, LogRefused, MalformedInput, Misuse, SignatureRefused
from .merkle import EMPTY_ROOT, HASH_SIZE
from .note import (
    MAX_SIGNATURES,
    SIG_COSIGNATURE_V1,
    SIG_ED25519,
    Note,
    NoteKey,
    NoteVerifier,
    b64decode_std,
    b64encode_std,
    check_key_name,
    parse_decimal,
    parse_note,
    parse_signature_line,
    verified_by,
)

#: tree sizes are unsigned 64-bit numbers in every tlog implementation
MAX_TREE_SIZE = 2**64 - 1


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A tree head: the log's origin, its number of entries and the root hash."""

    origin: str
    size: int
    root: bytes

    def __post_init__(self) -> None:
        try:
            check_key_name(self.origin, what="checkpoint origin")
        except MalformedInput as exc:
            raise Misuse(exc.message) from None
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise Misuse(f"a tree size is between 0 and 2**64 - 1, not {self.size}")
        if len(self.root) != HASH_SIZE:
            raise Misuse(f"a root hash is {HASH_SIZE} bytes, not {len(self.root)}")

    def body(self) -> bytes:
        """The note text: origin, size and root, each on its own line."""
        return f"{self.origin}\n{self.size}\n{b64encode_std(self.root)}\n".encode()

    @classmethod
    def parse_body(cls, text: bytes) -> Checkpoint:
        """Read a checkpoint note text (unverified: use :func:`open_checkpoint` for trust)."""
        try:
            decoded = text.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedInput("a checkpoint is not valid UTF-8") from None
        if not decoded.endswith("\n"):
            raise MalformedInput("a checkpoint text ends with a newline")
        lines = decoded[:-1].split("\n")
        if len(lines) > 3:
            raise MalformedInput(
                f"the checkpoint has {len(lines) - 3} line(s) after the root hash; "
                "Regie accepts no extension lines"
            )
        if len(lines) < 3:
            raise MalformedInput("a checkpoint has three lines: origin, tree size and root hash")
        origin, size_line, root_line = lines
        check_key_name(origin, what="checkpoint origin")
        size = parse_decimal(size_line, what="the checkpoint tree size", maximum=MAX_TREE_SIZE)
        root = b64decode_std(root_line, what="the checkpoint root hash")
        if len(root) != HASH_SIZE:
            raise MalformedInput(
                f"the checkpoint root hash is {len(root)} bytes, not {HASH_SIZE} (SHA-256)"
            )
        if size == 0 and root != EMPTY_ROOT:
            raise MalformedInput("a checkpoint of the empty tree must have the empty tree's root")
        return cls(origin, size, root)


def sign_checkpoint(cp: Checkpoint, key: NoteKey) -> bytes:
    """The signed checkpoint note; the log key's name must be the origin."""
    if key.name != cp.origin:
        raise Misuse(f"the log key {key.name!r} cannot sign a checkpoint of {cp.origin!r}")
    body = cp.body()
    return body + b"\n" + key.sign_line(body).encode("utf-8")


@dataclass(frozen=True, slots=True)
class OpenedCheckpoint:
    """A checkpoint the log signed, and the trusted witnesses that cosigned it (timestamps)."""

    checkpoint: Checkpoint
    note: Note
    cosigned_by: dict[NoteVerifier, int]


def open_checkpoint(
    data: bytes,
    log: NoteVerifier,
    *,
    witnesses: Sequence[NoteVerifier] = (),
    quorum: int = 0,
) -> OpenedCheckpoint:
    """Parse and verify a signed checkpoint from ``log``, with ``quorum`` of ``witnesses``.

    Refused: anything malformed (:class:`MalformedInput`); an origin other than
    ``log.name`` or no signature by ``log`` (``KEY_UNKNOWN``); a failing
    signature by the log or a listed witness (``SIGNATURE_INVALID``); fewer than
    ``quorum`` valid witness cosignatures (``LOG_COSIGNATURE_MISSING``).
    Signatures by other keys are ignored.
    """
    if log.sig_type != SIG_ED25519:
        raise Misuse("a log key is an Ed25519 note key (type 0x01)")
    if any(w.sig_type != SIG_COSIGNATURE_V1 for w in witnesses):
        raise Misuse("witness keys are cosignature/v1 keys (type 0x04)")
    if not 0 <= quorum <= len(set(witnesses)):
        raise Misuse(f"a quorum of {quorum} cannot be met by {len(set(witnesses))} witness keys")
    note = parse_note(data)
    checkpoint = Checkpoint.parse_body(note.text)
    if checkpoint.origin != log.name:
        raise SignatureRefused(
            f"the checkpoint is from {checkpoint.origin!r}, not from the trusted log {log.name!r}",
            code=Code.KEY_UNKNOWN,
        )
    verified = verified_by(note, [log, *witnesses])
    if log not in verified:
        raise SignatureRefused(
            f"the checkpoint is not signed by the log key {log.name}+{log.key_id.hex()}",
            code=Code.KEY_UNKNOWN,
        )
    cosigned_by: dict[NoteVerifier, int] = {}
    for witness in witnesses:
        timestamp = verified.get(witness)
        if timestamp is not None:
            cosigned_by[witness] = timestamp
    if len(cosigned_by) < quorum:
        raise LogRefused(
            f"the checkpoint of {checkpoint.size} entries has {len(cosigned_by)} valid witness "
            f"cosignature(s); {quorum} are required",
            code=Code.LOG_COSIGNATURE_MISSING,
        )
    return OpenedCheckpoint(checkpoint=checkpoint, note=note, cosigned_by=cosigned_by)


def with_cosignatures(note: bytes, lines: Sequence[str]) -> bytes:
    """``note`` with signature ``lines`` appended, skipping keys (name and ID) already there.

    Nothing is verified here: check the lines first (e.g. :func:`open_checkpoint`
    with the witness keys on the result).
    """
    parsed = parse_note(note)
    signatures = list(parsed.signatures)
    present = {(s.name, s.key_id) for s in signatures}
    for line in lines:
        signature = parse_signature_line(line)
        if (signature.name, signature.key_id) in present:
            continue
        present.add((signature.name, signature.key_id))
        signatures.append(signature)
    if len(signatures) > MAX_SIGNATURES:
        raise MalformedInput(
            f"a checkpoint carries at most {MAX_SIGNATURES} signatures, not {len(signatures)}",
            code=Code.SIZE_EXCEEDED,
        )
    rendered = Note(text=parsed.text, signatures=tuple(signatures)).render()
    parse_note(rendered)  # still within the size limit
    return rendered


__all__ = [
    "MAX_TREE_SIZE",
    "Checkpoint",
    "OpenedCheckpoint",
    "open_checkpoint",
    "sign_checkpoint",
    "with_cosignatures",
]
