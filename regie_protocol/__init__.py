"""Regie's shared protocol package: what every role speaks.

Modules (each a namespace; import the module, use its ``__all__``):

* :mod:`regie_protocol.errors` — the one exception tree, stable codes
* :mod:`regie_protocol.limits` — hard limits on untrusted input
* :mod:`regie_protocol.keys` — Ed25519 / P-256 signing keys, X25519 encryption keys, JWK
* :mod:`regie_protocol.jws` — strict compact JWS per token profile
* :mod:`regie_protocol.sdjwt` — SD-JWT and SD-JWT VC: issue, present, verify
* :mod:`regie_protocol.statuslist` — IETF Token Status List
* :mod:`regie_protocol.consent` — the consent token: typed claims, sign, verify
* :mod:`regie_protocol.consent_request` — the verifier's signed consent request
* :mod:`regie_protocol.dpop` — DPoP proofs (RFC 9449) that bind a consent to the verifier's key
* :mod:`regie_protocol.release` — the data release: a JWE (ECDH-ES, X25519) only the verifier opens
* :mod:`regie_protocol.registry` — the registrar-signed list of verifiers and what they may ask
* :mod:`regie_protocol.private_files` — key files: atomic 0600 writes, exposure check
* :mod:`regie_protocol.vocab` — the W3C DPV purposes, legal bases and consent states
* :mod:`regie_protocol.http` — RFC 9457 problems and NL GOV API conventions for services

This package never imports a role package (wallet, issuer, verifier, audit).
"""

from .errors import (
    ClaimRefused,
    Code,
    DisclosureRefused,
    KeyBindingRefused,
    KeyRefused,
    MalformedInput,
    Misuse,
    Refused,
    RegieError,
    SignatureRefused,
    StatusRefused,
    TimeRefused,
    Unavailable,
)
from .limits import DEFAULT_LIMITS, Limits

__all__ = [
    "DEFAULT_LIMITS",
    "ClaimRefused",
    "Code",
    "DisclosureRefused",
    "KeyBindingRefused",
    "KeyRefused",
    "Limits",
    "MalformedInput",
    "Misuse",
    "Refused",
    "RegieError",
    "SignatureRefused",
    "StatusRefused",
    "TimeRefused",
    "Unavailable",
]
