"""DPoP-authenticated calls: the consent token of ``Authorization: DPoP``, and proof-only calls.

:func:`consent_token` reads the token a read or a purge report presents.
:func:`caller_proof`: a call authenticated by a DPoP proof alone (no access token),
verified, used once, or 401.

For the calls where the caller's key is the credential: collecting the answer
to a consent request (the key that signed the request) and reading the log
(a registered reader's key, or the key a consent binds). The proof must be
for this method and URL, fresh, and new: its ``jti`` is recorded, so a
replay is refused. Any refusal counts against the address's rate limit, is
recorded with its reason, and answers 401 with ``WWW-Authenticate: DPoP``.
"""

from __future__ import annotations

from regie_protocol.dpop import VerifiedProof, verify_proof
from regie_protocol.errors import ClaimRefused, Code, Refused, SignatureRefused

from .problems import DPOP_CHALLENGE, refusal
from .replay import DPOP_LEEWAY, insert_proof
from .service import HostService


def consent_token(authorization: str | None) -> str:
    """The token of ``Authorization: DPoP <token>`` (split as FastAPI's ``HTTPBase`` does)."""
    scheme, _, param = (authorization or "").partition(" ")
    credentials = param.strip()
    if not (authorization and scheme and credentials):
        raise ClaimRefused("no Authorization header", code=Code.CLAIM_MISSING)
    if scheme.lower() != "dpop":
        raise ClaimRefused(
            f"Authorization scheme {scheme[:16]!r}: send 'DPoP <consent token>'",
            code=Code.DPOP_MISSING,
        )
    return credentials


def caller_proof(
    service: HostService,
    dpop: str | None,
    *,
    htm: str,
    path: str,
    route: str,
    now: int,
    client: str,
) -> VerifiedProof:
    """The verified, first-used DPoP proof of this call (raises the 401 problem otherwise)."""
    try:
        if dpop is None:
            raise ClaimRefused("no DPoP header", code=Code.DPOP_MISSING)
        proof = verify_proof(
            dpop,
            htm=htm,
            htu=service.host_url + path,
            now=now,
            access_token=None,
            expected_jkt=None,
            leeway=DPOP_LEEWAY,
        )
        if not service.db.run(lambda conn: insert_proof(conn, proof)):
            raise SignatureRefused("the DPoP proof was used before", code=Code.DPOP_REPLAYED)
    except Refused as exc:
        service.write_limiter.check(client)
        service.record_refusal(route=route, now=now, code=exc.code.value, detail=exc.message)
        raise refusal(401, exc, challenge=DPOP_CHALLENGE) from None
    return proof


__all__ = ["caller_proof", "consent_token"]
