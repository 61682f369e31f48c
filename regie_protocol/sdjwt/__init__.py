"""SD-JWT (RFC 9901) and SD-JWT VC: issue, present, parse, verify.

::

    token = issue({"iss": ISS, "vct": VCT, "cnf": cnf_for(holder.public_key),
                   "given_name": SD("Jan")}, issuer_key=issuer)
    shown = present(token, disclose=["given_name"], holder_key=holder,
                    audience=VERIFIER, nonce=nonce, now=now)
    result = verify(shown, issuer_keys={ISS: {kid: key}},
                    key_binding=KeyBindingRequired(audience=VERIFIER, nonce=nonce),
                    status=resolver, now=now, accepted_vcts={VCT})

Compact serialisation only (``~``-separated, trailing ``~``, KB-JWT ``typ:
kb+jwt``); ``_sd_alg`` is ``sha-256``. The JWS JSON serialisation (RFC 9901 §8)
is not supported. Every refusal is a typed :class:`~regie_protocol.errors.Refused`.
"""

from ._disclosures import KB_JWT_TYP, NEVER_DISCLOSABLE, SD_JWT_VC_TYP, Disclosure
from ._issue import SD, cnf_for, issue
from ._parse import UnverifiedSdJwt, parse
from ._policy import (
    UNSAFE_SKIP_STATUS,
    IssuerKeys,
    KeyBindingPolicy,
    KeyBindingRequired,
    NoKeyBinding,
    StatusResolver,
    UnsafeSkipStatus,
)
from ._present import PathSpec, present
from ._process import Path
from ._verify import VerifiedSdJwt, verify

__all__ = [
    "KB_JWT_TYP",
    "NEVER_DISCLOSABLE",
    "SD",
    "SD_JWT_VC_TYP",
    "UNSAFE_SKIP_STATUS",
    "Disclosure",
    "IssuerKeys",
    "KeyBindingPolicy",
    "KeyBindingRequired",
    "NoKeyBinding",
    "Path",
    "PathSpec",
    "StatusResolver",
    "UnsafeSkipStatus",
    "UnverifiedSdJwt",
    "VerifiedSdJwt",
    "cnf_for",
    "issue",
    "parse",
    "present",
    "verify",
]
