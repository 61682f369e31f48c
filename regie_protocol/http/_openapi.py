"""Make FastAPI's OpenAPI document follow the NL GOV REST API Design Rules.

A default FastAPI document fails the Logius Spectral ruleset. :func:`nlgov_openapi`
rewrites it (a pure function on the JSON) so it passes:

* ``info.version`` is the API's semver, ``info.contact`` has name, url and email;
* ``servers`` is ``<base>/v<major>`` and paths are relative to it; a path outside
  the versioned prefix keeps its own path-level ``servers`` (well-known paths, fixed
  by their RFCs, are served from ``<base>/.well-known``, so their keys stay kebab-case);
* every 2xx/3xx answer documents the ``API-Version`` header;
* FastAPI's own validation 422 (the one whose body is ``HTTPValidationError``) is
  replaced by the 400 ``application/problem+json`` we really send, documented on
  every write and on every read with parameters; a 422 a route declares itself
  (in ``responses=``) is a real answer and is kept; every operation
  documents 500, every operation with a body 413, every secured operation 401;
* every 4xx/5xx answer offers ``application/problem+json`` with ``status``,
  ``title`` and ``detail`` (an answer whose protocol mandates ``application/json``,
  such as OAuth's token errors, keeps it beside the problem form).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI

from ..errors import Misuse
from ._middleware import DEFAULT_MAX_BODY_BYTES

PROBLEM_SCHEMA_REF = "#/components/schemas/Problem"
API_VERSION_HEADER_REF = "#/components/headers/API-Version"
_VALIDATION_ERROR_REF = "#/components/schemas/HTTPValidationError"
_SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?"
)
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
_WELL_KNOWN = "/.well-known"

_PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "format": "uri", "description": "Stable problem type."},
        "title": {"type": "string", "description": "Fixed summary of the problem type."},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "The class of failure."},
        "instance": {"type": "string", "format": "uri-reference"},
        "invalidParams": {
            "type": "array",
            "items": {"$ref": "#/components/schemas/InvalidParam"},
        },
    },
}
_INVALID_PARAM_SCHEMA: dict[str, Any] = {
    "title": "InvalidParam",
    "type": "object",
    "required": ["name", "code", "reason"],
    "properties": {
        "name": {"type": "string"},
        "code": {"type": "string"},
        "reason": {"type": "string"},
    },
}
_API_VERSION_HEADER: dict[str, Any] = {
    "description": "The full semantic version of this API.",
    "schema": {"type": "string"},
    "example": "1.0.0",
}
_DEFAULT_DESCRIPTIONS = {
    "400": "Bad request: a parameter or the body is missing, malformed or refused.",
    "401": "Unauthenticated: the credentials are missing or not valid.",
    "413": "Content too large.",
    "500": "Internal server error.",
}


@dataclass(frozen=True, slots=True)
class Contact:
    name: str
    url: str
    email: str


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    """What the OpenAPI document and the ``API-Version`` header say about a service."""

    title: str
    #: full semver of the API; its major is the ``/v<major>`` in every path
    api_version: str
    description: str
    contact: Contact
    #: the public base URL (scheme, host, optional port and path), no trailing slash
    base_url: str
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES

    def __post_init__(self) -> None:
        if not _SEMVER.fullmatch(self.api_version):
            raise Misuse(f"the API version is semver (1.2.3), not {self.api_version!r}")
        if self.base_url.endswith("/"):
            raise Misuse("the base URL has no trailing slash")

    @property
    def prefix(self) -> str:
        """``/v<major>``."""
        return "/v" + self.api_version.split(".", 1)[0]


def _problem_content() -> dict[str, Any]:
    return {"application/problem+json": {"schema": {"$ref": PROBLEM_SCHEMA_REF}}}


def _ensure_problem(responses: dict[str, Any], status: str) -> None:
    response = responses.setdefault(status, {"description": _DEFAULT_DESCRIPTIONS.get(status, "")})
    if not response.get("description"):
        response["description"] = _DEFAULT_DESCRIPTIONS.get(status, "Error.")
    content = response.setdefault("content", {})
    content.update({k: v for k, v in _problem_content().items() if k not in content})


def _is_validation_422(response: Any) -> bool:
    """Whether ``response`` is FastAPI's generated 422 (a body of ``HTTPValidationError``)."""
    if not isinstance(response, dict):
        return False
    content = response.get("content")
    if not isinstance(content, dict):
        return False
    return any(
        isinstance(media, dict)
        and isinstance(media.get("schema"), dict)
        and media["schema"].get("$ref") == _VALIDATION_ERROR_REF
        for media in content.values()
    )


def _fix_operation(method: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    if _is_validation_422(responses.get("422")):
        del responses["422"]
    writes = method in ("post", "put", "patch")
    has_parameters = bool(operation.get("parameters"))
    if writes or (method in ("get", "delete") and has_parameters):
        _ensure_problem(responses, "400")
    if "requestBody" in operation:
        _ensure_problem(responses, "413")
    if operation.get("security"):
        _ensure_problem(responses, "401")
    _ensure_problem(responses, "500")
    for status, response in responses.items():
        if status[0] in "23":
            response.setdefault("headers", {})["API-Version"] = {"$ref": API_VERSION_HEADER_REF}
        elif status[0] in "45":
            _ensure_problem(responses, status)


def _move_path(path: str, info: ServiceInfo) -> tuple[str, str | None]:
    """The document's key for ``path`` and the path-level server URL it needs (if any)."""
    if path.startswith(info.prefix + "/"):
        return path[len(info.prefix) :], None
    if path.startswith(_WELL_KNOWN + "/"):
        return path[len(_WELL_KNOWN) :], info.base_url + _WELL_KNOWN
    return path, info.base_url


def nlgov_openapi(schema: Mapping[str, Any], info: ServiceInfo) -> dict[str, Any]:
    """A copy of FastAPI's ``schema`` rewritten to the NL GOV rules (see the module doc)."""
    doc: dict[str, Any] = copy.deepcopy(dict(schema))
    doc["info"] = {
        **doc.get("info", {}),
        "title": info.title,
        "version": info.api_version,
        "description": info.description,
        "contact": {
            "name": info.contact.name,
            "url": info.contact.url,
            "email": info.contact.email,
        },
    }
    doc["servers"] = [{"url": info.base_url + info.prefix}]
    paths: dict[str, Any] = {}
    for path, item in doc.get("paths", {}).items():
        key, server = _move_path(path, info)
        if key in paths:
            raise Misuse(f"two paths map to {key!r} in the OpenAPI document")
        if server is not None:
            item["servers"] = [{"url": server}]
        for method in _METHODS:
            if method in item:
                _fix_operation(method, item[method])
        paths[key] = item
    doc["paths"] = paths
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas["Problem"] = _PROBLEM_SCHEMA
    schemas["InvalidParam"] = _INVALID_PARAM_SCHEMA
    components.setdefault("headers", {})["API-Version"] = _API_VERSION_HEADER
    return doc


def install_openapi(app: FastAPI, info: ServiceInfo) -> None:
    """Let ``app.openapi()`` return the NL GOV document (built once, then cached)."""
    original: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = nlgov_openapi(original(), info)
        schema: dict[str, Any] = app.openapi_schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


__all__ = ["Contact", "ServiceInfo", "install_openapi", "nlgov_openapi"]
