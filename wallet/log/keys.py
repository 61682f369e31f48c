"""The consent log's signing key: an Ed25519 note key in its own private file.

One key per purpose (STYLE habit 12): the log key signs checkpoints and
nothing else; it is not the host key (status lists) and not a citizen's key.
The file is a private JWK (``kty`` OKP, ``crv`` Ed25519, ``d``, ``x``) with the
member ``"regie_purpose": "log"``, written atomically with mode 0600
(:mod:`regie_protocol.private_files`); a file others can read, or a key made
for another purpose, is refused. The key's name in signed notes is the log's
origin (kept in the database), so the loaders take the origin and hand out a
:class:`~regie_protocol.tlog.note.NoteKey`, never raw key bytes.

Losing the file means a new key, and with it a new log (a checkpoint key does
not rotate inside one origin): keep a backup of it like the host key.
"""

from __future__ import annotations

import json
from pathlib import Path

from regie_protocol._encoding import b64url_decode
from regie_protocol.errors import KeyRefused, Misuse
from regie_protocol.keys import Alg, SigningKey, Unprotected, parse_jwk_text
from regie_protocol.private_files import check_private_file, write_private_file
from regie_protocol.tlog.note import NoteKey

#: the default file name, beside the host key in the wallet home
LOG_KEY_FILE_NAME = "log-key.jwk"
PURPOSE_MEMBER = "regie_purpose"
PURPOSE = "log"


def create_log_key(path: Path, origin: str) -> NoteKey:
    """A new Ed25519 log key written to ``path`` (0600); refuses to overwrite any file."""
    if path.exists():
        raise Misuse(f"{path} exists already: a log key is never overwritten")
    key = SigningKey.generate(Alg.EDDSA)
    jwk = json.loads(key.export_private_jwk(protection=Unprotected()))
    jwk[PURPOSE_MEMBER] = PURPOSE
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_private_file(path, json.dumps(jwk, indent=2) + "\n")
    return load_log_key(path, origin)


def load_log_key(path: Path, origin: str) -> NoteKey:
    """The log key in ``path`` as the note key named ``origin``; refused when exposed or foreign."""
    if not path.is_file():
        raise Misuse(f"the log key file {path} does not exist")
    check_private_file(path)
    jwk = parse_jwk_text(path.read_bytes())
    if jwk.get(PURPOSE_MEMBER) != PURPOSE:
        raise KeyRefused(
            f'{path} is not a log key (no "{PURPOSE_MEMBER}": "{PURPOSE}"): '
            "one key per purpose, the host key never signs checkpoints"
        )
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise KeyRefused(f"{path}: a log key is an Ed25519 key (kty OKP, crv Ed25519)")
    SigningKey.from_private_jwk(jwk)  # refuses a malformed key or a public part not its own
    seed = b64url_decode(str(jwk["d"]), what="JWK member d")
    return NoteKey(origin, seed)


def load_or_create_log_key(path: Path, origin: str) -> tuple[NoteKey, bool]:
    """The log key in ``path``, created first when there is none: ``(key, created)``."""
    if path.exists():
        return load_log_key(path, origin), False
    return create_log_key(path, origin), True


__all__ = [
    "LOG_KEY_FILE_NAME",
    "PURPOSE",
    "PURPOSE_MEMBER",
    "create_log_key",
    "load_log_key",
    "load_or_create_log_key",
]
