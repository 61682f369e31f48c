"""The holder's side: choose Disclosures, optionally add a Key Binding JWT (RFC 9901 §7.2).

``disclose`` names claims by path in the credential as the holder sees it (every
Disclosure applied): ``"given_name"`` is a top-level claim, ``("address",
"street")`` a nested member, ``("nationalities", 0)`` an array element (index in
the fully disclosed array). Choosing a path discloses that claim *with
everything inside it*, and keeps the Disclosures of its containers so the
verifier can place it; nothing beside it is disclosed. A path that names no
claim is refused: a typo must not silently disclose less (or more).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from .. import jws
from ..errors import Misuse, RegieError
from ..keys import SigningKey, public_key_from_jwk
from ..limits import DEFAULT_LIMITS, Limits
from ._disclosures import KB_JWT_TYP, digest
from ._parse import parse
from ._process import Path, index_disclosures, process

PathSpec = str | tuple[str | int, ...]


def present(
    sd_jwt: str,
    *,
    disclose: Collection[PathSpec],
    holder_key: SigningKey | None,
    audience: str | None = None,
    nonce: str | None = None,
    now: int | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> str:
    """A presentation of ``sd_jwt`` (as issued) with only the chosen Disclosures.

    With ``holder_key`` a KB-JWT for ``audience``/``nonce`` issued at ``now`` is
    appended (``typ: kb+jwt``, ``sd_hash`` over everything up to the last ``~``);
    without it the result is an SD-JWT ending in ``~``.
    """
    if isinstance(disclose, (str, bytes)) or not isinstance(disclose, Collection):
        raise Misuse("disclose is a collection of claim paths, e.g. ['given_name']")
    if holder_key is None:
        if audience is not None or nonce is not None or now is not None:
            raise Misuse("audience, nonce and now belong to a key binding JWT: pass holder_key")
    elif not (_text(audience) and _text(nonce) and type(now) is int):
        raise Misuse("a key binding JWT needs audience and nonce strings and now (int)")
    parsed = parse(sd_jwt, limits=limits)
    if parsed.key_binding_jwt is not None:
        raise Misuse("present() takes the SD-JWT as issued (ending in '~'), not a presentation")
    processed = process(parsed.unverified_claims, index_disclosures(parsed.disclosures), limits)
    wanted = [_path(spec) for spec in disclose]
    for path in wanted:
        if not _exists(processed.claims, path):
            raise Misuse(f"the credential has no claim at {path!r}")
    chosen = [
        d.encoded
        for d in parsed.disclosures
        if any(_related(processed.paths[d.digest], path) for path in wanted)
    ]
    presentation = parsed.issuer_jwt + "~" + "".join(encoded + "~" for encoded in chosen)
    if holder_key is None:
        return presentation
    _check_bound_to(parsed.unverified_claims.get("cnf"), holder_key)
    claims = {"iat": now, "aud": audience, "nonce": nonce, "sd_hash": digest(presentation)}
    return presentation + jws.sign(claims, key=holder_key, typ=KB_JWT_TYP, kid=False)


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value)


def _path(spec: object) -> Path:
    if isinstance(spec, str):
        return (spec,)
    if isinstance(spec, tuple) and spec:
        for step in spec:
            if not isinstance(step, str) and (type(step) is not int or step < 0):
                raise Misuse(f"a path step is a claim name or an array index, not {step!r}")
        return spec
    raise Misuse(f"a claim path is a name or a non-empty tuple, not {spec!r}")


def _exists(claims: Any, path: Path) -> bool:
    node = claims
    for step in path:
        if isinstance(step, str):
            if type(node) is not dict or step not in node:
                return False
        elif type(node) is not list or step >= len(node):
            return False
        node = node[step]
    return True


def _related(disclosed_at: Path, wanted: Path) -> bool:
    """The Disclosure is inside the wanted claim, or is one of its containers."""
    n = min(len(disclosed_at), len(wanted))
    return disclosed_at[:n] == wanted[:n]


def _check_bound_to(cnf: object, holder_key: SigningKey) -> None:
    jwk = cnf.get("jwk") if isinstance(cnf, dict) else None
    if not isinstance(jwk, dict):
        raise Misuse("the credential names no holder key (cnf.jwk): it cannot be key-bound")
    try:
        bound = public_key_from_jwk(jwk)
    except RegieError as exc:
        raise Misuse(f"the credential's cnf.jwk is not usable: {exc.message}") from None
    if bound != holder_key.public_key:
        raise Misuse("holder_key is not the key this credential is bound to (cnf.jwk)")


__all__ = ["PathSpec", "present"]
