"""Signed notes (C2SP signed-note v1): Ed25519 note signatures and cosignature/v1.

A signed note is a UTF-8 text ending in a newline, a blank line, then one or
more signature lines ``— <key name> base64(key ID || signature)``::

    key = NoteKey.generate("wallet.example/log")
    note = text + b"\\n" + key.sign_line(text).encode()
    verified_by(parse_note(note), [key.verifier()])   # {verifier: None}

Two signature types are spoken: ``0x01`` (Ed25519 over the note text, what a
log signs its checkpoints with) and ``0x04`` (C2SP tlog-cosignature
``cosignature/v1``: Ed25519 over ``cosignature/v1\\ntime <t>\\n`` and the note
text, with the 8-byte timestamp in front of the signature, what a witness
returns). A key is named by ``(name, key ID)``, the key ID being
``SHA-256(name || 0x0A || type || public key)[:4]``; a verifier key (*vkey*)
is ``<name>+<hex key ID>+base64(type || public key)``.

Parsing is strict and bounded: at most :data:`MAX_NOTE_BYTES` bytes and
:data:`MAX_SIGNATURES` signature lines, valid UTF-8, no control character but
newline, key names non-empty without spaces or ``+``, standard base64 in its
one canonical spelling. :func:`verified_by` follows the spec's rules: unknown
keys are ignored, a known key's bad signature refuses the whole note, and a
note no known key signed is refused.

The base64 and decimal helpers here are the conventions every C2SP tlog text
format shares (checkpoints, proofs, the witness protocol).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Self

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from ..errors import Code, KeyRefused, MalformedInput, Misuse, SignatureRefused

#: a note with 32 signatures of 72 bytes and a checkpoint body fits four times over
MAX_NOTE_BYTES = 16384
#: the spec asks verifiers to accept at least 16
MAX_SIGNATURES = 32
#: a vkey is about 100 characters; this leaves room for a long key name
MAX_VKEY_CHARS = 1024
#: signature type 0x01: Ed25519 over the note text
SIG_ED25519 = 0x01
#: signature type 0x04: C2SP tlog-cosignature, ``cosignature/v1`` (timestamped Ed25519)
SIG_COSIGNATURE_V1 = 0x04
#: cosignature timestamps are at most 2**63 - 1 (tlog-cosignature)
MAX_TIMESTAMP = 2**63 - 1

_SIG_TYPES = {SIG_ED25519: "Ed25519", SIG_COSIGNATURE_V1: "cosignature/v1"}
_SIG_PREFIX = "— "  # em dash (U+2014), space
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f]")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_HEX_ID = re.compile(r"[0-9a-f]{8}")
_ED25519_SIG_BYTES = 64
_COSIGNATURE_BYTES = 8 + _ED25519_SIG_BYTES


# --- the conventions C2SP's tlog formats share ---------------------------------------------


def b64encode_std(data: bytes) -> str:
    """Standard base64 (RFC 4648 §4) with padding, as every C2SP tlog format writes it."""
    return base64.b64encode(data).decode("ascii")


def b64decode_std(text: str, *, what: str) -> bytes:
    """Decode standard base64 in its one canonical spelling; refuse everything else.

    No whitespace, no missing or extra padding, no set trailing bits: the text
    must be exactly what :func:`b64encode_std` writes for the bytes it decodes to.
    """
    if not text.isascii():
        raise MalformedInput(f"{what} is not standard base64 (non-ASCII characters)")
    try:
        data = binascii.a2b_base64(text, strict_mode=True)
    except binascii.Error:
        raise MalformedInput(f"{what} is not standard base64 with padding") from None
    if base64.b64encode(data).decode("ascii") != text:
        raise MalformedInput(f"{what} is not canonical base64 (trailing bits set)")
    return data


def parse_decimal(text: str, *, what: str, maximum: int) -> int:
    """An ASCII decimal with no leading zeroes (``0`` itself allowed), at most ``maximum``."""
    if len(text) > len(str(maximum)) or not _DECIMAL.fullmatch(text):
        raise MalformedInput(
            f"{what} must be a decimal number without leading zeroes, not {text[:32]!r}"
        )
    value = int(text)
    if value > maximum:
        raise MalformedInput(f"{what} {value} is larger than {maximum}")
    return value


def check_key_name(name: str, *, what: str = "key name") -> None:
    """A key name (and a checkpoint origin) is non-empty, without spaces, ``+`` or controls."""
    if not name:
        raise MalformedInput(f"the {what} is empty")
    if "+" in name:
        raise MalformedInput(f"the {what} {name[:64]!r} contains '+'")
    if any(char.isspace() for char in name) or _CONTROL.search(name):
        raise MalformedInput(f"the {what} {name[:64]!r} contains a space or control character")


def key_id(name: str, sig_type: int, public_key: bytes) -> bytes:
    """``SHA-256(name || 0x0A || type || public key)[:4]``: the recommended (0x04: required) ID."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([sig_type]) + public_key).digest()[
        :4
    ]


def _check_text(text: bytes) -> None:
    """A note text the signer is asked to sign must be one a verifier can parse back."""
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError:
        raise Misuse("a note text is UTF-8") from None
    if not decoded.endswith("\n") or _CONTROL.search(decoded):
        raise Misuse("a note text ends in one newline and has no control character but newline")
    if len(text) > MAX_NOTE_BYTES:
        raise Misuse(f"a note text is at most {MAX_NOTE_BYTES} bytes")


def _cosigned_message(text: bytes, timestamp: int) -> bytes:
    return b"cosignature/v1\ntime %d\n" % timestamp + text


# --- verifier keys --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NoteVerifier:
    """A trusted public key for notes: name, key ID, signature type, Ed25519 public key.

    The key ID must be the one computed from the rest (a vkey whose ID does not
    match is refused), so two verifiers are equal exactly when they are the same key.
    """

    name: str
    key_id: bytes
    sig_type: int
    public_key: bytes

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if self.sig_type not in _SIG_TYPES:
            raise KeyRefused(
                f"signature type 0x{self.sig_type:02x} is not supported "
                "(0x01 Ed25519 or 0x04 cosignature/v1)",
                code=Code.ALGORITHM_REFUSED,
            )
        if len(self.public_key) != 32:
            raise KeyRefused(f"an Ed25519 public key is 32 bytes, not {len(self.public_key)}")
        if self.key_id != key_id(self.name, self.sig_type, self.public_key):
            raise KeyRefused(
                f"the key ID {self.key_id.hex()} of {self.name!r} is not "
                "SHA-256(name || 0x0A || type || public key)[:4]"
            )

    @classmethod
    def of(cls, name: str, sig_type: int, public_key: bytes) -> NoteVerifier:
        """The verifier for a public key, its key ID computed."""
        return cls(name, key_id(name, sig_type, public_key), sig_type, public_key)

    @classmethod
    def parse(cls, vkey: str) -> NoteVerifier:
        """Read ``<name>+<8 hex>+base64(type || public key)``; refuse anything odd."""
        if len(vkey) > MAX_VKEY_CHARS:
            raise MalformedInput(f"a verifier key is at most {MAX_VKEY_CHARS} characters")
        parts = vkey.split("+", 2)  # the base64 part may hold '+' too
        if len(parts) != 3:
            raise MalformedInput("a verifier key is <name>+<key ID in hex>+<base64 key>")
        name, hex_id, encoded = parts
        check_key_name(name)
        if not _HEX_ID.fullmatch(hex_id):
            raise MalformedInput(
                f"the key ID of verifier key {name!r} is not 8 lowercase hex digits"
            )
        material = b64decode_std(encoded, what=f"the key of verifier key {name!r}")
        if len(material) != 33:
            raise MalformedInput(
                f"verifier key {name!r} holds {len(material)} bytes, "
                "not a type byte and a 32-byte Ed25519 key"
            )
        try:
            return cls(name, bytes.fromhex(hex_id), material[0], material[1:])
        except KeyRefused as exc:
            raise MalformedInput(f"verifier key {name!r}: {exc.message}") from None

    def vkey(self) -> str:
        return (
            f"{self.name}+{self.key_id.hex()}+"
            f"{b64encode_std(bytes([self.sig_type]) + self.public_key)}"
        )

    def verify(self, text: bytes, signature: bytes) -> int | None:
        """Check one signature over a note text; the cosignature timestamp (``None`` for 0x01)."""
        timestamp: int | None = None
        message = text
        if self.sig_type == SIG_COSIGNATURE_V1:
            if len(signature) != _COSIGNATURE_BYTES:
                raise SignatureRefused(
                    f"the cosignature by {self.name!r} is {len(signature)} bytes, "
                    f"not {_COSIGNATURE_BYTES}"
                )
            timestamp = int.from_bytes(signature[:8], "big")
            if timestamp > MAX_TIMESTAMP:
                raise SignatureRefused(
                    f"the cosignature by {self.name!r} has a timestamp beyond 2**63 - 1"
                )
            message = _cosigned_message(text, timestamp)
            signature = signature[8:]
        elif len(signature) != _ED25519_SIG_BYTES:
            raise SignatureRefused(
                f"the signature by {self.name!r} is {len(signature)} bytes, "
                f"not {_ED25519_SIG_BYTES}"
            )
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except (InvalidSignature, ValueError):
            raise SignatureRefused(
                f"the signature by {self.name!r} (key ID {self.key_id.hex()}) does not verify",
                code=Code.SIGNATURE_INVALID,
            ) from None
        return timestamp

    def __repr__(self) -> str:
        return f"<NoteVerifier {self.name}+{self.key_id.hex()} {_SIG_TYPES[self.sig_type]}>"


# --- signers --------------------------------------------------------------------------------


class _Ed25519Signer:
    sig_type: ClassVar[int]

    __slots__ = ("_key", "_verifier")

    def __init__(self, name: str, seed: bytes) -> None:
        check_key_name(name)
        if len(seed) != 32:
            raise KeyRefused(f"an Ed25519 seed is 32 bytes, not {len(seed)}")
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        public = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self._verifier = NoteVerifier.of(name, self.sig_type, public)

    @classmethod
    def generate(cls, name: str) -> Self:
        """A new key from the operating system's random generator."""
        seed = Ed25519PrivateKey.generate().private_bytes(
            Encoding.Raw, PrivateFormat.Raw, NoEncryption()
        )
        return cls(name, seed)

    @property
    def name(self) -> str:
        return self._verifier.name

    @property
    def seed(self) -> bytes:
        """The 32-byte private seed: store it with ``write_private_file`` only."""
        return self._key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())

    def verifier(self) -> NoteVerifier:
        return self._verifier

    def _line(self, signature: bytes) -> str:
        return f"{_SIG_PREFIX}{self.name} {b64encode_std(self._verifier.key_id + signature)}\n"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}+{self._verifier.key_id.hex()}>"


class NoteKey(_Ed25519Signer):
    """An Ed25519 note signer (type 0x01), e.g. the log's checkpoint key. Its repr hides the key."""

    sig_type = SIG_ED25519
    __slots__ = ()

    def sign_line(self, text: bytes) -> str:
        """The signature line ``— <name> <base64>\\n`` for a note text (ending in a newline)."""
        _check_text(text)
        return self._line(self._key.sign(text))


class CosignerKey(_Ed25519Signer):
    """An Ed25519 cosigner (type 0x04, cosignature/v1), e.g. a witness. Its repr hides the key."""

    sig_type = SIG_COSIGNATURE_V1
    __slots__ = ()

    def cosign_line(self, checkpoint_text: bytes, timestamp: int) -> str:
        """The cosignature line for a checkpoint body at ``timestamp`` (POSIX seconds)."""
        _check_text(checkpoint_text)
        if not 0 <= timestamp <= MAX_TIMESTAMP:
            raise Misuse(f"a cosignature timestamp is between 0 and 2**63 - 1, not {timestamp}")
        signature = self._key.sign(_cosigned_message(checkpoint_text, timestamp))
        return self._line(timestamp.to_bytes(8, "big") + signature)


# --- notes ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Signature:
    """One parsed signature line (not verified). ``line`` is the line with its newline."""

    name: str
    key_id: bytes
    signature: bytes
    line: str


@dataclass(frozen=True, slots=True)
class Note:
    """A parsed, *unverified* note: its text (with the final newline) and signature lines."""

    text: bytes
    signatures: tuple[Signature, ...]

    def render(self) -> bytes:
        return self.text + b"\n" + "".join(s.line for s in self.signatures).encode("utf-8")


def parse_signature_line(line: str) -> Signature:
    """Read one ``— <key name> <base64>`` line (with or without its newline)."""
    body = line[:-1] if line.endswith("\n") else line
    if "\n" in body:
        raise MalformedInput("a signature line is one line")
    if not body.startswith(_SIG_PREFIX):
        raise MalformedInput(
            f"a signature line starts with an em dash and a space, not {body[:16]!r}"
        )
    name, space, encoded = body[len(_SIG_PREFIX) :].partition(" ")
    if not space:
        raise MalformedInput("a signature line is '— <key name> <base64 signature>'")
    check_key_name(name)
    raw = b64decode_std(encoded, what=f"the signature by {name!r}")
    if len(raw) < 5:
        raise MalformedInput(f"the signature by {name!r} is shorter than a key ID and a byte")
    return Signature(name=name, key_id=raw[:4], signature=raw[4:], line=body + "\n")


def parse_note(data: bytes) -> Note:
    """Split a signed note into text and signature lines. Checks form only, not signatures."""
    if len(data) > MAX_NOTE_BYTES:
        raise MalformedInput(
            f"a signed note is at most {MAX_NOTE_BYTES} bytes, not {len(data)}",
            code=Code.SIZE_EXCEEDED,
        )
    try:
        decoded = data.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedInput("a signed note is not valid UTF-8") from None
    found = _CONTROL.search(decoded)
    if found:
        raise MalformedInput(
            f"a signed note contains the control character U+{ord(found.group()):04X}"
        )
    if not decoded.endswith("\n"):
        raise MalformedInput("a signed note ends with a newline")
    split = decoded.rfind("\n\n")
    if split < 0:
        raise MalformedInput("a signed note has no blank line between its text and signatures")
    lines = decoded[split + 2 : -1].split("\n") if split + 2 < len(decoded) else []
    if not lines:
        raise MalformedInput("a signed note has no signature lines")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedInput(
            f"a signed note has {len(lines)} signatures; at most {MAX_SIGNATURES} are read",
            code=Code.SIZE_EXCEEDED,
        )
    signatures = tuple(parse_signature_line(line) for line in lines)
    text = decoded[: split + 1].encode("utf-8")
    return Note(text=text, signatures=signatures)


def verified_by(note: Note, verifiers: Sequence[NoteVerifier]) -> dict[NoteVerifier, int | None]:
    """Which of ``verifiers`` signed ``note``: each to its cosignature timestamp (0x01: ``None``).

    Signatures by keys not in ``verifiers`` (another name or key ID) are
    ignored. A signature by a known key that fails to verify refuses the whole
    note (``SIGNATURE_INVALID``); so does a note that no known key signed
    (``KEY_UNKNOWN``). A key that signed twice must verify both times; the
    first line's timestamp counts.
    """
    known: dict[tuple[str, bytes], NoteVerifier] = {}
    for verifier in verifiers:
        other = known.setdefault((verifier.name, verifier.key_id), verifier)
        if other != verifier:
            raise Misuse(
                f"two trusted keys share the name {verifier.name!r} and ID {verifier.key_id.hex()}"
            )
    result: dict[NoteVerifier, int | None] = {}
    for signature in note.signatures:
        signer = known.get((signature.name, signature.key_id))
        if signer is None:
            continue
        timestamp = signer.verify(note.text, signature.signature)
        result.setdefault(signer, timestamp)
    if not result:
        names = ", ".join(sorted({f"{v.name}+{v.key_id.hex()}" for v in verifiers})) or "none"
        raise SignatureRefused(
            f"the note is not signed by any trusted key (trusted: {names})",
            code=Code.KEY_UNKNOWN,
        )
    return result


__all__ = [
    "MAX_NOTE_BYTES",
    "MAX_SIGNATURES",
    "MAX_TIMESTAMP",
    "MAX_VKEY_CHARS",
    "SIG_COSIGNATURE_V1",
    "SIG_ED25519",
    "CosignerKey",
    "Note",
    "NoteKey",
    "NoteVerifier",
    "Signature",
    "b64decode_std",
    "b64encode_std",
    "check_key_name",
    "key_id",
    "parse_decimal",
    "parse_note",
    "parse_signature_line",
    "verified_by",
]
