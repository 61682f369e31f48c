"""Build a FastAPI app with every Regie HTTP convention installed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI

from ._handlers import StrictJSONRoute, install_problem_handlers
from ._middleware import ApiHeadersMiddleware, BodyLimitMiddleware
from ._openapi import ServiceInfo, install_openapi


def create_service_app(info: ServiceInfo, **fastapi_options: Any) -> FastAPI:
    """A FastAPI app with problem+json errors, NL GOV OpenAPI and headers, a body cap.

    No trailing-slash redirects (``/v1/x/`` is a 404), the OpenAPI document at
    ``/v<major>/openapi.json``, no interactive docs unless asked for through
    ``fastapi_options`` (``docs_url=...``).
    """
    options: dict[str, Any] = {
        "title": info.title,
        "version": info.api_version,
        "description": info.description,
        "openapi_url": info.prefix + "/openapi.json",
        "docs_url": None,
        "redoc_url": None,
        "redirect_slashes": False,
        **fastapi_options,
    }
    app = FastAPI(**options)
    install_problem_handlers(app)
    # added first = innermost: the header middleware also wraps the 413 and 500 answers
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=info.max_body_bytes)
    app.add_middleware(ApiHeadersMiddleware, api_version=info.api_version)
    install_openapi(app, info)
    app.state.service_info = info
    return app


def api_router(**options: Any) -> APIRouter:
    """An APIRouter whose JSON bodies are parsed strictly (:class:`StrictJSONRoute`)."""
    return APIRouter(route_class=StrictJSONRoute, **options)


__all__ = ["api_router", "create_service_app"]
