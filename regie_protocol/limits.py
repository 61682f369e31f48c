"""Hard limits on untrusted input, in one place (STYLE habit 17).

Every parser takes a :class:`Limits`; the defaults are what a service uses when
it states nothing else. The numbers are chosen so that a legitimate consent
token, credential or status list fits with room to spare, and a hostile one
is refused before any expensive work is done.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    #: compact JWS (consent tokens, key binding JWTs, status list tokens' header part)
    max_token_bytes: int = 16 * 1024
    #: an SD-JWT with all its disclosures and key binding
    max_sd_jwt_bytes: int = 64 * 1024
    #: a signed status list token (the compressed list dominates)
    max_status_list_token_bytes: int = 2 * 1024 * 1024
    #: decompressed status list bytes (2^24 one-byte statuses)
    max_status_list_bytes: int = 16 * 1024 * 1024
    #: nesting of JSON arrays and objects
    max_json_depth: int = 16
    #: disclosures in one SD-JWT
    max_disclosures: int = 256
    #: digests (including decoys) in one `_sd` array
    max_sd_digests: int = 512
    #: allowed clock skew, seconds (RFC 8725 advice: small)
    leeway_seconds: int = 60
    #: a JWK document (one key)
    max_jwk_bytes: int = 8 * 1024

    def __post_init__(self) -> None:
        if not 0 <= self.leeway_seconds <= 60:
            raise ValueError("leeway_seconds must be between 0 and 60")


DEFAULT_LIMITS = Limits()

__all__ = ["DEFAULT_LIMITS", "Limits"]
