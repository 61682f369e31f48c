"""HTTP conventions shared by every Regie service (FastAPI / Starlette glue).

* RFC 9457 problems with a stable ``type`` per refusal reason
  (``https://regie.example/problems/<code>``), saying little outward;
* NL GOV REST API Design Rules: ``API-Version`` on every answer, no trailing
  slashes, an OpenAPI 3.1 document that passes the Logius Spectral ruleset;
* a request body cap (413), ``Cache-Control: no-store`` by default,
  ``X-Content-Type-Options: nosniff``, strict JSON request bodies.

Start a service with :func:`create_service_app` and build its routes on
:func:`api_router`.
"""

from ._app import api_router, create_service_app
from ._handlers import StrictJSONRoute, install_problem_handlers
from ._middleware import DEFAULT_MAX_BODY_BYTES, ApiHeadersMiddleware, BodyLimitMiddleware
from ._openapi import Contact, ServiceInfo, install_openapi, nlgov_openapi
from ._problems import (
    PROBLEM_MEDIA_TYPE,
    PROBLEM_TYPE_BASE,
    AuthenticationRefused,
    HttpProblem,
    ProblemCode,
    problem_body,
    problem_for_status,
    problem_from_error,
    problem_response,
    problem_title,
    problem_type,
    status_for,
)

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "PROBLEM_MEDIA_TYPE",
    "PROBLEM_TYPE_BASE",
    "ApiHeadersMiddleware",
    "AuthenticationRefused",
    "BodyLimitMiddleware",
    "Contact",
    "HttpProblem",
    "ProblemCode",
    "ServiceInfo",
    "StrictJSONRoute",
    "api_router",
    "create_service_app",
    "install_openapi",
    "install_problem_handlers",
    "nlgov_openapi",
    "problem_body",
    "problem_for_status",
    "problem_from_error",
    "problem_response",
    "problem_title",
    "problem_type",
    "status_for",
]
