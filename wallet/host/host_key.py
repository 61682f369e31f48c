"""The wallet host's own signing key: it signs the consent status lists, nothing else.

One key per purpose (STYLE habit 12): the host key is not a citizen's key and
never signs a consent. It lives in a private JWK file (mode 0600, written
atomically through :mod:`regie_protocol.private_files`); a file others can read
is refused. :func:`load_or_create_host_key` makes an Ed25519 key the first time
(``regie wallet host-key`` or the first ``regie wallet serve``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from regie_protocol.errors import Misuse
from regie_protocol.keys import Alg, SigningKey, Unprotected, parse_jwk_text
from regie_protocol.private_files import check_private_file, write_private_file

#: the algorithm of a new host key
HOST_KEY_ALG = Alg.EDDSA


def load_host_key(path: Path) -> SigningKey:
    """The host key in ``path``; refused when the file is missing or others may read it."""
    if not path.is_file():
        raise Misuse(f"the host key file {path} does not exist: run 'regie wallet host-key'")
    check_private_file(path)
    return SigningKey.from_private_jwk(parse_jwk_text(path.read_text(encoding="utf-8")))


def create_host_key(path: Path) -> SigningKey:
    """A new Ed25519 host key written to ``path`` (0600); refuses to overwrite a key."""
    if path.exists():
        raise Misuse(f"{path} exists already: a host key is never overwritten")
    key = SigningKey.generate(HOST_KEY_ALG)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_private_file(path, key.export_private_jwk(protection=Unprotected()))
    return key


def load_or_create_host_key(path: Path) -> tuple[SigningKey, bool]:
    """The host key in ``path``, created first when there is none: ``(key, created)``."""
    if path.exists():
        return load_host_key(path), False
    return create_host_key(path), True


def public_jwk(key: SigningKey) -> dict[str, Any]:
    """The public JWK a verifier pins: key members, ``kid`` (thumbprint), ``alg``, ``use``."""
    return {**key.public_key.to_jwk(), "kid": key.kid, "alg": key.alg.value, "use": "sig"}


__all__ = [
    "HOST_KEY_ALG",
    "create_host_key",
    "load_host_key",
    "load_or_create_host_key",
    "public_jwk",
]
