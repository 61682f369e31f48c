"""Verifying an SD-JWT VC presentation (RFC 9901 §7.1 and §7.3) under the caller's policy.

Order of checks:

1. size, disclosure count, strict decoding of every part (:func:`parse`);
2. Key Binding present exactly when the policy says so (§7.3 step 2, §7.2);
3. issuer-signed JWT: ``typ`` (before anything else, so a KB-JWT, a status
   list or a consent token is refused as such), the issuer's keys found by
   ``iss`` in the caller's trust source, algorithm and signature, ``iss``/``vct``
   present, ``iat``/``nbf``/``exp`` integer and valid now;
4. ``_sd_alg`` is ``sha-256``; ``vct`` is accepted;
5. Disclosures processed (:mod:`._process`): exactly-once references, no
   duplicate digest, no name conflict, bounded depth;
6. holder key from ``cnf.jwk`` (a public key) and, when required, the KB-JWT;
7. the Token Status List entry through the caller's resolver.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .. import jws
from ..errors import (
    ClaimRefused,
    Code,
    DisclosureRefused,
    KeyBindingRefused,
    Misuse,
    SignatureRefused,
    StatusRefused,
)
from ..keys import PublicKey, public_key_from_jwk
from ..limits import DEFAULT_LIMITS, Limits
from ..statuslist import Status
from ._disclosures import KB_JWT_TYP, SD_ALG, SD_ALG_KEY, SD_JWT_VC_TYP
from ._key_binding import ALGS, verify_key_binding
from ._parse import parse
from ._policy import (
    IssuerKeys,
    KeyBindingPolicy,
    KeyBindingRequired,
    NoKeyBinding,
    StatusResolver,
    UnsafeSkipStatus,
)
from ._process import Path, index_disclosures, process


@dataclass(frozen=True, slots=True)
class VerifiedSdJwt:
    """A credential whose signature, disclosures, key binding, times and status passed."""

    issuer: str
    vct: str | None
    #: the Processed SD-JWT Payload: permanent claims plus disclosed ones, without
    #: ``_sd``, ``_sd_alg`` and undisclosed array elements
    claims: dict[str, Any]
    #: the holder's key from ``cnf.jwk``, when the credential names one
    holder_key: PublicKey | None
    #: where in :attr:`claims` each disclosed claim sits (array indices as in ``claims``)
    disclosed_paths: frozenset[Path]
    #: the KB-JWT's claims when key binding was required, else None
    key_binding: Mapping[str, Any] | None
    header: Mapping[str, Any]
    #: ``(uri, idx)`` of the Token Status List entry, when the credential has one
    status: tuple[str, int] | None


@lru_cache(maxsize=16)
def _profile(typ: str) -> jws.TokenProfile:
    vc = typ == SD_JWT_VC_TYP
    return jws.TokenProfile(
        name="SD-JWT VC" if vc else f"SD-JWT ({typ})",
        typ=typ,
        algs=ALGS,
        required_claims=frozenset({"iss", "vct"} if vc else {"iss"}),
        max_lifetime=None,
        required_times=frozenset(),
    )


def verify(
    token: str | bytes,
    *,
    issuer_keys: IssuerKeys,
    key_binding: KeyBindingPolicy,
    status: StatusResolver | UnsafeSkipStatus,
    now: int,
    accepted_vcts: Collection[str] | None,
    typ: str = SD_JWT_VC_TYP,
    limits: Limits = DEFAULT_LIMITS,
) -> VerifiedSdJwt:
    """Verify an SD-JWT (VC) or SD-JWT+KB. Raises a :class:`Refused` subclass; never False.

    ``accepted_vcts`` is the set of credential types this verifier takes (None:
    any type, say so on purpose). ``status`` is a resolver or UNSAFE_SKIP_STATUS.
    """
    _check_arguments(key_binding, status, now, accepted_vcts, typ)
    parsed = parse(token, limits=limits)
    kb_jwt = parsed.key_binding_jwt
    required = isinstance(key_binding, KeyBindingRequired)
    if required and kb_jwt is None:
        raise KeyBindingRefused(
            "key binding is required but the presentation has no key binding JWT",
            code=Code.KEY_BINDING_MISSING,
        )
    if isinstance(key_binding, NoKeyBinding) and kb_jwt is not None:
        raise KeyBindingRefused(
            "a key binding JWT is not expected here (an issuer sends an SD-JWT without one)",
            code=Code.KEY_BINDING_UNEXPECTED,
        )
    profile = _profile(typ)
    issuer_jws = parsed.issuer_jws
    header_typ = issuer_jws.header.get("typ")
    if header_typ != typ:
        raise SignatureRefused(
            f"typ {header_typ!r} is not {typ!r}: this is not a {profile.name}",
            code=Code.TYP_MISMATCH,
        )
    iss = issuer_jws.unverified_claims.get("iss")
    if not isinstance(iss, str):
        raise ClaimRefused(
            "the credential names no issuer ('iss')",
            code=Code.CLAIM_MISSING if iss is None else Code.CLAIM_INVALID,
        )
    keys = _keys_of(issuer_keys, iss)
    verified = jws.verify_parsed(
        issuer_jws, profile=profile, keys=keys, now=now, audience=None, limits=limits
    )
    payload = verified.claims
    sd_alg = payload.get(SD_ALG_KEY, SD_ALG)
    if sd_alg != SD_ALG:
        raise DisclosureRefused(
            f"_sd_alg {sd_alg!r} is not supported; only {SD_ALG!r}", code=Code.SD_ALG_UNSUPPORTED
        )
    vct = payload.get("vct")
    if vct is not None and not isinstance(vct, str):
        raise ClaimRefused("'vct' is a string", code=Code.CLAIM_INVALID)
    if accepted_vcts is not None and vct not in accepted_vcts:
        raise ClaimRefused(f"credential type {vct!r} is not accepted here", code=Code.CLAIM_INVALID)
    processed = process(payload, index_disclosures(parsed.disclosures), limits)
    holder_key = _holder_key(payload.get("cnf"), required=required)
    kb_claims = None
    if isinstance(key_binding, KeyBindingRequired):
        assert holder_key is not None and kb_jwt is not None
        kb_claims = verify_key_binding(
            kb_jwt,
            holder_key=holder_key,
            sd_jwt=parsed.sd_jwt,
            policy=key_binding,
            now=now,
            limits=limits,
        )
    claim = payload.get("status")
    entry = None if claim is None else _status_entry(claim)
    if entry is not None and not isinstance(status, UnsafeSkipStatus):
        _check_status(status(*entry), entry)
    return VerifiedSdJwt(
        issuer=iss,
        vct=vct,
        claims=processed.claims,
        holder_key=holder_key,
        disclosed_paths=frozenset(processed.paths.values()),
        key_binding=kb_claims,
        header=verified.header,
        status=entry,
    )


def _check_arguments(
    key_binding: object, status: object, now: object, accepted_vcts: object, typ: object
) -> None:
    if not isinstance(key_binding, (KeyBindingRequired, NoKeyBinding)):
        raise Misuse("key_binding is KeyBindingRequired(...) or NoKeyBinding()")
    if not (isinstance(status, UnsafeSkipStatus) or callable(status)):
        raise Misuse("status is a resolver (uri, idx) -> status, or UNSAFE_SKIP_STATUS")
    if type(now) is not int:
        raise Misuse("now is an integer NumericDate")
    if isinstance(accepted_vcts, (str, bytes)):
        raise Misuse("accepted_vcts is a collection of types, not one string")
    if not isinstance(typ, str) or not typ or typ == KB_JWT_TYP:
        raise Misuse(f"{typ!r} is not a credential type")


def _keys_of(issuer_keys: IssuerKeys, iss: str) -> Mapping[str, PublicKey]:
    if type(issuer_keys) is dict or isinstance(issuer_keys, Mapping):
        keys = issuer_keys.get(iss)
    elif callable(issuer_keys):
        keys = issuer_keys(iss)
    else:
        raise Misuse("issuer_keys is a mapping or a callable: iss -> {kid: PublicKey}")
    if not keys:
        raise SignatureRefused(
            f"the issuer {iss!r} is not trusted here", code=Code.ISSUER_UNTRUSTED
        )
    return keys


def _holder_key(cnf: object, *, required: bool) -> PublicKey | None:
    if cnf is None:
        jwk = None
    elif isinstance(cnf, dict):
        jwk = cnf.get("jwk")
    else:
        raise ClaimRefused("'cnf' is a JSON object", code=Code.CLAIM_INVALID)
    if jwk is None:
        if required:
            raise KeyBindingRefused(
                "the credential names no holder key (cnf.jwk), so it cannot be key-bound",
                code=Code.KEY_BINDING_INVALID,
            )
        return None
    if not isinstance(jwk, dict):
        raise ClaimRefused("'cnf.jwk' is a JSON object", code=Code.CLAIM_INVALID)
    for value in jwk.values():
        if type(value) is not str:
            return public_key_from_jwk(jwk)
    # all members are strings, so the members (in the issuer's order) key the cache exactly
    return _public_key(tuple(jwk.items()))


@lru_cache(maxsize=1024)
def _public_key(members: tuple[tuple[str, str], ...]) -> PublicKey:
    """Holder keys recur across presentations; importing a P-256 point costs a curve check."""
    return public_key_from_jwk(dict(members))


def _status_entry(claim: object) -> tuple[str, int] | None:
    if claim is None:
        return None
    status_list = claim.get("status_list") if isinstance(claim, dict) else None
    if not isinstance(status_list, dict):
        raise ClaimRefused(
            "'status' names no Token Status List entry (status.status_list); "
            "Regie cannot check any other mechanism",
            code=Code.CLAIM_INVALID,
        )
    idx, uri = status_list.get("idx"), status_list.get("uri")
    if type(idx) is not int or idx < 0 or not isinstance(uri, str) or not uri:
        raise ClaimRefused(
            "status.status_list is {'idx': non-negative integer, 'uri': string}",
            code=Code.CLAIM_INVALID,
        )
    return uri, idx


def _check_status(value: int, entry: tuple[str, int]) -> None:
    uri, idx = entry
    if value == Status.VALID:
        return
    if value == Status.INVALID:
        raise StatusRefused(f"the credential is revoked ({uri} #{idx})", code=Code.REVOKED)
    if value == Status.SUSPENDED:
        raise StatusRefused(f"the credential is suspended ({uri} #{idx})", code=Code.SUSPENDED)
    raise StatusRefused(
        f"status value {value!r} of {uri} #{idx} has no meaning Regie knows",
        code=Code.STATUS_UNKNOWN,
    )


__all__ = ["VerifiedSdJwt", "verify"]
