"""``POST /v1/data``'s parameters, taken from the request without FastAPI's dependency solver.

FastAPI documents the read route from its endpoint's signature (the DPoP
security scheme, the ``DPoP`` and ``Idempotency-Key`` headers, the
:class:`DataRequest` body, the :class:`DataResponse` answer), but its general
machinery (dependency solving, parameter and answer validation) costs
several times the read's own checks. :class:`DataRoute` serves the endpoint
with :func:`take_parameters` instead: the same header limits, the same strict
JSON (:func:`~regie_protocol._encoding.loads_strict`) for a JSON media type,
the same :class:`DataRequest` model, and FastAPI's ``RequestValidationError``
(so the same ``400 invalid_params`` problem naming each parameter) when one is
not accepted. The endpoint is called as ``endpoint(request, dpop,
idempotency_key, body)`` and answers a ready ``Response``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Annotated, Any, cast

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    field_validator,
)
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from regie_protocol._encoding import loads_strict
from regie_protocol.limits import DEFAULT_LIMITS

from .idempotency import HEADER as IDEMPOTENCY_HEADER

#: the longest ``DPoP`` and ``Idempotency-Key`` header values accepted
DPOP_MAX_CHARS = 8192
IDEMPOTENCY_KEY_MAX_CHARS = 130
AttributeName = Annotated[
    str,
    StringConstraints(
        pattern=r"^[a-z][a-z0-9_]{0,63}(\.[a-z][a-z0-9_]{0,63}){0,3}$", max_length=259
    ),
]
#: ``(request, dpop, idempotency_key, body) -> answer``
ReadEndpoint = Callable[
    [Request, str | None, str | None, "DataRequest | None"], Awaitable[Response]
]


class DataRequest(BaseModel):
    """What the verifier needs now: a subset of the consented attributes."""

    model_config = ConfigDict(extra="forbid")

    attributes: list[AttributeName] | None = Field(default=None, min_length=1, max_length=64)

    @field_validator("attributes")
    @classmethod
    def _unique(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("an attribute is named twice")
        return value


class DataResponse(BaseModel):
    """One recorded use of a consent and the sealed release."""

    consent: str
    use: int
    release: str
    attributes: list[str]
    logIndex: int | None = Field(
        default=None, description="The index of the read's data.released event in the host's log."
    )
    receipt: str | None = Field(
        default=None,
        description=(
            "The read's receipt: a C2SP tlog-proof (index, inclusion proof, signed "
            "checkpoint) anyone can check offline against the log's key."
        ),
    )


_BODY: TypeAdapter[DataRequest | None] = TypeAdapter(DataRequest | None)


def _too_long(name: str, value: str | None, limit: int) -> list[dict[str, Any]]:
    if value is None or len(value) <= limit:
        return []
    return [
        {
            "type": "string_too_long",
            "loc": ("header", name),
            "msg": f"String should have at most {limit} characters",
            "input": None,
            "ctx": {"max_length": limit},
        }
    ]


def _is_json(content_type: str) -> bool:
    media = content_type.partition(";")[0].strip().lower()
    main, _, sub = media.partition("/")
    return main == "application" and (sub == "json" or sub.endswith("+json"))


async def _body(request: Request) -> tuple[DataRequest | None, list[dict[str, Any]]]:
    """The optional body as FastAPI takes it: strict JSON by its media type, then the model."""
    try:
        raw = await request.body()
    except ClientDisconnect:
        raise HTTPException(status_code=400, detail="the body was not sent whole") from None
    if not raw:
        return None, []
    content_type = request.headers.get("content-type")
    value: Any = raw  # not JSON by its media type: the model refuses the bytes
    if content_type and _is_json(content_type):
        value = loads_strict(raw, max_depth=DEFAULT_LIMITS.max_json_depth, what="request body")
    try:
        return _BODY.validate_python(value), []
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        return None, [{**error, "loc": ("body", *error["loc"])} for error in errors]


async def take_parameters(request: Request) -> tuple[str | None, str | None, DataRequest | None]:
    """``(dpop, idempotency_key, body)`` from ``request``; ``RequestValidationError`` if refused."""
    headers = request.headers
    dpop = headers.get("dpop")
    key = headers.get(IDEMPOTENCY_HEADER)
    errors = _too_long("DPoP", dpop, DPOP_MAX_CHARS)
    errors += _too_long(IDEMPOTENCY_HEADER, key, IDEMPOTENCY_KEY_MAX_CHARS)
    body, body_errors = await _body(request)
    errors += body_errors
    if errors:
        raise RequestValidationError(errors)
    return dpop, key, body


class DataRoute(APIRoute):
    """A route documented from its endpoint's signature, served through :func:`take_parameters`.

    Only for an endpoint ``(request, dpop, idempotency_key, body) -> Response``
    declaring exactly those parameters, and without dependencies that must
    run (they would be documented, not run).
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = cast(ReadEndpoint, self.endpoint)

        async def handle(request: Request) -> Response:
            dpop, key, body = await take_parameters(request)
            return await endpoint(request, dpop, key, body)

        return handle


__all__ = [
    "DPOP_MAX_CHARS",
    "IDEMPOTENCY_KEY_MAX_CHARS",
    "AttributeName",
    "DataRequest",
    "DataResponse",
    "DataRoute",
    "take_parameters",
]
