"""The bodies of C2SP tlog-witness ``add-checkpoint``: request, cosignature response, size.

Request (``POST <prefix>/add-checkpoint``)::

    old 20852014
    PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=      (consistency proof, 0 to 63 lines)

    <the signed checkpoint>

Response ``200``: one or more cosignature lines ``— <witness name> <base64>``.
Response ``409 Conflict`` (:data:`SIZE_MEDIA_TYPE`): the size the witness last
cosigned, in decimal, and a newline.

This module reads and writes these bodies only. Whether the checkpoint is
signed by a known log, the old size matches, and the proof verifies is the
witness's (and the log's) business, with :func:`~.checkpoint.open_checkpoint`
and :func:`~.merkle.verify_consistency`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import Code, MalformedInput, Misuse
from .checkpoint import MAX_TREE_SIZE, Checkpoint
from .merkle import HASH_SIZE
from .note import (
    MAX_NOTE_BYTES,
    MAX_SIGNATURES,
    b64decode_std,
    b64encode_std,
    parse_decimal,
    parse_note,
    parse_signature_line,
)

#: the media type of a 409 answer: the witness's latest cosigned size
SIZE_MEDIA_TYPE = "text/x.tlog.size"
#: the spec's limit on consistency proof lines in a request
MAX_PROOF_LINES = 63
#: the old size line, 63 proof lines and a checkpoint note
MAX_REQUEST_BYTES = MAX_NOTE_BYTES + 64 * 64
#: a response of MAX_SIGNATURES cosignature lines
MAX_RESPONSE_BYTES = MAX_NOTE_BYTES


@dataclass(frozen=True, slots=True)
class AddCheckpoint:
    """An add-checkpoint request: the size the client believes the witness has, a proof, a note.

    :meth:`parse` checks that the checkpoint is a well-formed checkpoint note
    whose size is at least ``old_size`` (the spec's ``400`` cases); its
    signatures are not checked here.
    """

    old_size: int
    proof: tuple[bytes, ...]
    checkpoint: bytes

    def __post_init__(self) -> None:
        if not 0 <= self.old_size <= MAX_TREE_SIZE:
            raise Misuse(f"a tree size is between 0 and 2**64 - 1, not {self.old_size}")
        if len(self.proof) > MAX_PROOF_LINES or any(len(h) != HASH_SIZE for h in self.proof):
            raise Misuse(f"a consistency proof is at most {MAX_PROOF_LINES} SHA-256 hashes")

    def render(self) -> bytes:
        lines = [f"old {self.old_size}", *(b64encode_std(h) for h in self.proof)]
        return ("\n".join(lines) + "\n\n").encode("ascii") + self.checkpoint

    @classmethod
    def parse(cls, body: bytes) -> AddCheckpoint:
        """Read a request body; :class:`MalformedInput` (a ``400``) names the first thing wrong."""
        if len(body) > MAX_REQUEST_BYTES:
            raise MalformedInput(
                f"an add-checkpoint request is at most {MAX_REQUEST_BYTES} bytes",
                code=Code.SIZE_EXCEEDED,
            )
        blank = body.find(b"\n\n")
        if blank < 0:
            raise MalformedInput(
                "an add-checkpoint request has an empty line between the proof and checkpoint"
            )
        try:
            lines = body[:blank].decode("ascii").split("\n")
        except UnicodeDecodeError:
            raise MalformedInput("the lines before the checkpoint are ASCII") from None
        if not lines[0].startswith("old "):
            raise MalformedInput("an add-checkpoint request starts with the line 'old <size>'")
        old_size = parse_decimal(
            lines[0][len("old ") :], what="the old size", maximum=MAX_TREE_SIZE
        )
        hashes = lines[1:]
        if len(hashes) > MAX_PROOF_LINES:
            raise MalformedInput(
                f"a consistency proof has at most {MAX_PROOF_LINES} lines, not {len(hashes)}",
                code=Code.SIZE_EXCEEDED,
            )
        proof = []
        for number, line in enumerate(hashes, start=1):
            value = b64decode_std(line, what=f"consistency proof line {number}")
            if len(value) != HASH_SIZE:
                raise MalformedInput(
                    f"consistency proof line {number} is {len(value)} bytes, not a SHA-256 hash"
                )
            proof.append(value)
        checkpoint = body[blank + 2 :]
        size = Checkpoint.parse_body(parse_note(checkpoint).text).size
        if old_size > size:
            raise MalformedInput(f"the old size {old_size} is larger than the checkpoint's {size}")
        return cls(old_size=old_size, proof=tuple(proof), checkpoint=checkpoint)


def render_cosignatures(lines: list[str]) -> bytes:
    """A ``200`` response body: the witness's cosignature lines."""
    if not lines:
        raise Misuse("a witness answers at least one cosignature")
    for line in lines:
        parse_signature_line(line)
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines).encode("utf-8")


def parse_cosignatures(body: bytes) -> list[str]:
    """The signature lines of a ``200`` response (each ending in a newline), form checked only.

    Verify them before use: append them to the checkpoint
    (:func:`~.checkpoint.with_cosignatures`) and open it with the witness keys.
    """
    if len(body) > MAX_RESPONSE_BYTES:
        raise MalformedInput(
            f"a witness response is at most {MAX_RESPONSE_BYTES} bytes", code=Code.SIZE_EXCEEDED
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedInput("a witness response is not valid UTF-8") from None
    if not text.endswith("\n"):
        raise MalformedInput("a witness response is signature lines, each ending in a newline")
    lines = text[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedInput(
            f"a witness response has at most {MAX_SIGNATURES} lines, not {len(lines)}",
            code=Code.SIZE_EXCEEDED,
        )
    return [parse_signature_line(line).line for line in lines]


def render_size(size: int) -> bytes:
    """A ``409`` response body (:data:`SIZE_MEDIA_TYPE`): the latest cosigned size."""
    if not 0 <= size <= MAX_TREE_SIZE:
        raise Misuse(f"a tree size is between 0 and 2**64 - 1, not {size}")
    return b"%d\n" % size


def parse_size(body: bytes) -> int:
    """Read a ``409`` response body: a decimal size and a newline."""
    if len(body) > 32 or not body.endswith(b"\n"):
        raise MalformedInput("a size answer is a decimal number and a newline")
    try:
        text = body[:-1].decode("ascii")
    except UnicodeDecodeError:
        raise MalformedInput("a size answer is a decimal number and a newline") from None
    return parse_decimal(text, what="the witness's tree size", maximum=MAX_TREE_SIZE)


__all__ = [
    "MAX_PROOF_LINES",
    "MAX_REQUEST_BYTES",
    "MAX_RESPONSE_BYTES",
    "SIZE_MEDIA_TYPE",
    "AddCheckpoint",
    "parse_cosignatures",
    "parse_size",
    "render_cosignatures",
    "render_size",
]
