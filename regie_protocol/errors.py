"""One exception tree for all of Regie, split by who is at fault.

::

    RegieError                   every error Regie raises on purpose
    ├── Refused                  the input (a token, a key, a credential, a list) from a
    │   │                        remote party is not acceptable: nothing to retry
    │   ├── MalformedInput       not even well-formed (encoding, JSON, size, depth)
    │   ├── SignatureRefused     algorithm, header, key or signature
    │   ├── ClaimRefused         a claim is missing, mistyped or has the wrong value
    │   ├── TimeRefused          expired, not yet valid, issued in the future, too long-lived
    │   ├── DisclosureRefused    SD-JWT disclosures and digests
    │   ├── KeyBindingRefused    SD-JWT key binding
    │   ├── StatusRefused        revoked, suspended, index out of range
    │   ├── KeyRefused           a JWK that may not be used (weak, private where public wanted)
    │   └── LogRefused           a Merkle proof, checkpoint or log event does not hold
    ├── Unavailable              a transport or storage failure: the same call may work later
    └── Misuse                   the caller used the API wrongly: a bug to fix in the caller

Every error carries a stable machine-readable :class:`Code` (used for the CLI's
one-line message and the ``type`` of an RFC 9457 problem) and a message with
the numbers that matter. Codes never change meaning once published.
"""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    """Stable refusal codes. Add new ones; never rename or reuse one."""

    # malformed input
    MALFORMED = "malformed"
    SIZE_EXCEEDED = "size_exceeded"
    DEPTH_EXCEEDED = "depth_exceeded"
    DUPLICATE_MEMBER = "duplicate_member"
    # signature, algorithm, header, key
    ALGORITHM_REFUSED = "algorithm_refused"
    HEADER_REFUSED = "header_refused"
    TYP_MISMATCH = "typ_mismatch"
    KEY_UNKNOWN = "key_unknown"
    SIGNATURE_INVALID = "signature_invalid"
    ISSUER_UNTRUSTED = "issuer_untrusted"
    # claims
    CLAIM_MISSING = "claim_missing"
    CLAIM_INVALID = "claim_invalid"
    AUDIENCE_MISMATCH = "audience_mismatch"
    # time
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    ISSUED_IN_FUTURE = "issued_in_future"
    LIFETIME_TOO_LONG = "lifetime_too_long"
    # SD-JWT disclosures
    DISCLOSURE_MALFORMED = "disclosure_malformed"
    DISCLOSURE_UNREFERENCED = "disclosure_unreferenced"
    DIGEST_DUPLICATE = "digest_duplicate"
    CLAIM_NAME_CONFLICT = "claim_name_conflict"
    SD_ALG_UNSUPPORTED = "sd_alg_unsupported"
    # SD-JWT key binding
    KEY_BINDING_MISSING = "key_binding_missing"
    KEY_BINDING_UNEXPECTED = "key_binding_unexpected"
    KEY_BINDING_INVALID = "key_binding_invalid"
    SD_HASH_MISMATCH = "sd_hash_mismatch"
    NONCE_MISMATCH = "nonce_mismatch"
    # status
    REVOKED = "revoked"
    SUSPENDED = "suspended"
    STATUS_INDEX_OUT_OF_RANGE = "status_index_out_of_range"
    STATUS_LIST_INVALID = "status_list_invalid"
    STATUS_UNKNOWN = "status_unknown"
    # keys
    KEY_INVALID = "key_invalid"
    KEY_WEAK = "key_weak"
    PRIVATE_KEY_REFUSED = "private_key_refused"
    KEY_FILE_EXPOSED = "key_file_exposed"
    # transport / storage
    UNAVAILABLE = "unavailable"
    # caller misuse
    MISUSE = "misuse"
    # verifier registry (trust list)
    VERIFIER_UNREGISTERED = "verifier_unregistered"
    BEYOND_REGISTRATION = "beyond_registration"
    VERSION_ROLLBACK = "version_rollback"
    # consents held by a wallet
    ATTRIBUTE_NOT_HELD = "attribute_not_held"
    CONSENT_UNKNOWN = "consent_unknown"
    CONSENT_ENDED = "consent_ended"
    # wallet: fetching from URLs others give
    URL_REFUSED = "url_refused"
    # wallet host and verifier: consent-gated reads (DPoP, RFC 9449; releases as JWE)
    DPOP_MISSING = "dpop_missing"
    DPOP_INVALID = "dpop_invalid"
    DPOP_REPLAYED = "dpop_replayed"
    DPOP_KEY_MISMATCH = "dpop_key_mismatch"
    USES_EXHAUSTED = "uses_exhausted"
    TOO_FREQUENT = "too_frequent"
    NOT_CONSENTED = "not_consented"
    RELEASE_INVALID = "release_invalid"
    REQUEST_UNKNOWN = "request_unknown"
    REQUEST_ANSWERED = "request_answered"
    IDEMPOTENCY_CONFLICT = "idempotency_conflict"
    # the tamper-evident log
    LOG_PROOF_INVALID = "log_proof_invalid"
    LOG_INCONSISTENT = "log_inconsistent"
    LOG_ROLLBACK = "log_rollback"
    LOG_EVENT_MISMATCH = "log_event_mismatch"
    LOG_SPLIT_VIEW = "log_split_view"
    LOG_ACCESS_REFUSED = "log_access_refused"
    LOG_COSIGNATURE_MISSING = "log_cosignature_missing"


class RegieError(Exception):
    """Base of every error Regie raises on purpose."""

    code: Code = Code.MISUSE

    def __init__(self, message: str, *, code: Code | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code.value}: {self.message}"

    def diagnostics(self) -> str:
        """One line for a person: the code and what to do about it."""
        return str(self)


class Refused(RegieError):
    """Input from a remote party is not acceptable. Retrying the same input will not help."""

    code = Code.MALFORMED


class MalformedInput(Refused):
    code = Code.MALFORMED


class SignatureRefused(Refused):
    code = Code.SIGNATURE_INVALID


class ClaimRefused(Refused):
    code = Code.CLAIM_INVALID


class TimeRefused(ClaimRefused):
    code = Code.EXPIRED


class DisclosureRefused(Refused):
    code = Code.DISCLOSURE_MALFORMED


class KeyBindingRefused(Refused):
    code = Code.KEY_BINDING_INVALID


class StatusRefused(Refused):
    code = Code.REVOKED


class KeyRefused(Refused):
    code = Code.KEY_INVALID


class LogRefused(Refused):
    """A log proof, checkpoint or event does not hold: the log is not what it claims."""

    code = Code.LOG_PROOF_INVALID


class Unavailable(RegieError):
    """A transport or storage failure; the same call may succeed later."""

    code = Code.UNAVAILABLE


class Misuse(RegieError):
    """The caller used an API wrongly (a bug in the calling code, not bad input)."""

    code = Code.MISUSE


__all__ = [
    "ClaimRefused",
    "Code",
    "DisclosureRefused",
    "KeyBindingRefused",
    "KeyRefused",
    "LogRefused",
    "MalformedInput",
    "Misuse",
    "Refused",
    "RegieError",
    "SignatureRefused",
    "StatusRefused",
    "TimeRefused",
    "Unavailable",
]
