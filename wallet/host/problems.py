"""The host's refusal answers: a stable ``type`` per reason, a detail that says little.

The ``type`` is the refusal's :class:`~regie_protocol.errors.Code` (a verifier
can act on it: ``dpop_replayed`` means "make a fresh proof", ``revoked`` means
"stop"); the ``detail`` is fixed per HTTP status and never repeats the internal
message, which goes to the log and to ``read_refusal``. A ``401`` carries
``WWW-Authenticate: DPoP`` (RFC 9449 §7.1) with ``invalid_dpop_proof`` for a
proof problem and ``invalid_token`` for a token problem.
"""

from __future__ import annotations

from regie_protocol.dpop import DPOP_ALGS
from regie_protocol.errors import Code, RegieError
from regie_protocol.http import HttpProblem

DPOP_CHALLENGE = f'DPoP algs="{" ".join(sorted(DPOP_ALGS))}"'
_PROOF_CODES = frozenset(
    {Code.DPOP_MISSING, Code.DPOP_INVALID, Code.DPOP_REPLAYED, Code.DPOP_KEY_MISMATCH}
)
_DETAILS = {
    400: "The request or a value in it is not well-formed or not accepted.",
    401: "The consent token or the DPoP proof was not accepted.",
    403: "This call is not allowed under the consent or the registration.",
    404: "There is no such resource.",
    409: "The request id was used before for another request.",
    422: "This Idempotency-Key was used with another request.",
}


def refusal(status: int, error: RegieError, *, challenge: str | None = None) -> HttpProblem:
    """The problem for ``error`` answered with ``status`` (the message is logged, not sent)."""
    headers: dict[str, str] = {}
    if status == 401 and challenge is not None:
        name = "invalid_dpop_proof" if error.code in _PROOF_CODES else "invalid_token"
        headers["WWW-Authenticate"] = f'{challenge}, error="{name}"'
    detail = _DETAILS.get(status, "The request was not accepted.")
    return HttpProblem(status, error.code, detail, headers=headers, log=error.message)


__all__ = ["DPOP_CHALLENGE", "refusal"]
