"""A wallet host's RFC 9457 answers, turned back into Regie's typed refusals.

The host names the reason in the problem's ``type``
(``https://regie.example/problems/<code>``). A :class:`~regie_protocol.errors.Code`
becomes the exception class that code belongs to (``revoked`` ->
:class:`StatusRefused`, ``dpop_replayed`` -> :class:`SignatureRefused`, ...);
an HTTP-layer type (``not_found``, ``invalid_params``, ...) becomes the class
of its HTTP status; ``429`` and ``5xx`` are :class:`Unavailable` (try later).
The message carries the host's outward words only: it says little, by design.
"""

from __future__ import annotations

from typing import Any

import httpx

from regie_protocol._encoding import loads_strict
from regie_protocol.errors import (
    ClaimRefused,
    Code,
    KeyRefused,
    MalformedInput,
    RegieError,
    SignatureRefused,
    StatusRefused,
    TimeRefused,
    Unavailable,
)
from regie_protocol.http import PROBLEM_TYPE_BASE

_TIME = frozenset({Code.EXPIRED, Code.NOT_YET_VALID, Code.ISSUED_IN_FUTURE})
_STATUS = frozenset(
    {
        Code.REVOKED,
        Code.SUSPENDED,
        Code.STATUS_INDEX_OUT_OF_RANGE,
        Code.STATUS_LIST_INVALID,
        Code.STATUS_UNKNOWN,
        Code.CONSENT_ENDED,
    }
)
_SIGNATURE = frozenset(
    {
        Code.ALGORITHM_REFUSED,
        Code.HEADER_REFUSED,
        Code.TYP_MISMATCH,
        Code.KEY_UNKNOWN,
        Code.SIGNATURE_INVALID,
        Code.ISSUER_UNTRUSTED,
        Code.DPOP_MISSING,
        Code.DPOP_INVALID,
        Code.DPOP_REPLAYED,
        Code.DPOP_KEY_MISMATCH,
    }
)
_MALFORMED = frozenset(
    {Code.MALFORMED, Code.SIZE_EXCEEDED, Code.DEPTH_EXCEEDED, Code.DUPLICATE_MEMBER}
)
_KEY = frozenset({Code.KEY_INVALID, Code.KEY_WEAK, Code.PRIVATE_KEY_REFUSED})
_BY_HTTP_STATUS: dict[int, tuple[type[RegieError], Code]] = {
    400: (MalformedInput, Code.MALFORMED),
    401: (SignatureRefused, Code.SIGNATURE_INVALID),
    403: (ClaimRefused, Code.CLAIM_INVALID),
    413: (MalformedInput, Code.SIZE_EXCEEDED),
}
MAX_PROBLEM_BYTES = 16 * 1024


def error_class(code: Code) -> type[RegieError]:
    """The exception class a refusal ``code`` belongs to."""
    if code in _TIME:
        return TimeRefused
    if code in _STATUS:
        return StatusRefused
    if code in _SIGNATURE:
        return SignatureRefused
    if code in _MALFORMED:
        return MalformedInput
    if code in _KEY:
        return KeyRefused
    if code is Code.UNAVAILABLE:
        return Unavailable
    return ClaimRefused


def _problem(response: httpx.Response) -> dict[str, Any]:
    content = response.content
    media = response.headers.get("content-type", "").split(";")[0].strip()
    if not content or len(content) > MAX_PROBLEM_BYTES or not media.endswith("json"):
        return {}
    try:
        value = loads_strict(content, max_depth=8, what="problem")
    except MalformedInput:
        return {}
    return value if isinstance(value, dict) else {}


def refusal_from_response(
    response: httpx.Response, *, what: str, not_found: Code = Code.CLAIM_INVALID
) -> RegieError:
    """The typed error for a wallet host's non-success ``response`` to ``what``."""
    status = response.status_code
    problem = _problem(response)
    problem_type = problem.get("type")
    name = (
        problem_type.removeprefix(PROBLEM_TYPE_BASE)
        if isinstance(problem_type, str) and problem_type.startswith(PROBLEM_TYPE_BASE)
        else ""
    )
    title = problem.get("title")
    said = f": {title}" if isinstance(title, str) and title.isprintable() else ""
    kind = name or str(status)
    message = f"the wallet host refused {what} (HTTP {status}, {kind}){said}"
    if status == 429 or status >= 500:
        return Unavailable(message + "; try again later")
    try:
        code = Code(name)
    except ValueError:
        if status == 404:
            return ClaimRefused(message, code=not_found)
        cls, code = _BY_HTTP_STATUS.get(status, (ClaimRefused, Code.CLAIM_INVALID))
        return cls(message, code=code)
    return error_class(code)(message, code=code)


__all__ = ["MAX_PROBLEM_BYTES", "error_class", "refusal_from_response"]
