"""regie_protocol.http: problems, headers, body cap and OpenAPI, through a small real app."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Response
from pydantic import BaseModel, ConfigDict

import regie_protocol.http as http_pkg
from regie_protocol.errors import (
    Code,
    KeyBindingRefused,
    MalformedInput,
    Misuse,
    SignatureRefused,
    StatusRefused,
    TimeRefused,
    Unavailable,
)
from regie_protocol.http import (
    PROBLEM_MEDIA_TYPE,
    AuthenticationRefused,
    Contact,
    ProblemCode,
    ServiceInfo,
    api_router,
    create_service_app,
    nlgov_openapi,
    problem_response,
    problem_title,
)

pytestmark = pytest.mark.anyio
SECRET = "internal detail 7f3a that must not leave the server"
INFO = ServiceInfo(
    title="Test service",
    api_version="2.3.4",
    description="A service for tests.",
    contact=Contact(name="Regie", url="https://regie.example", email="api@regie.example"),
    base_url="https://svc.example",
    max_body_bytes=2048,
)


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    count: int


def build_app() -> FastAPI:
    app = create_service_app(INFO)
    router = api_router()

    @router.post("/v2/items", status_code=201)
    def create(item: Item) -> Item:
        return item

    @router.get("/v2/cached")
    def cached(response: Response) -> dict[str, str]:
        response.headers["Cache-Control"] = "max-age=60"
        return {}

    errors: dict[str, Exception] = {
        "malformed": MalformedInput(SECRET),
        "signature": SignatureRefused(SECRET, code=Code.ALGORITHM_REFUSED),
        "time": TimeRefused(SECRET, code=Code.EXPIRED),
        "keybinding": KeyBindingRefused(SECRET, code=Code.SD_HASH_MISMATCH),
        "status": StatusRefused(SECRET, code=Code.SUSPENDED),
        "unavailable": Unavailable(SECRET),
        "misuse": Misuse(SECRET),
        "bug": RuntimeError(SECRET),
        "auth": AuthenticationRefused(cause=SignatureRefused(SECRET)),
    }

    @router.get("/v2/fail/{kind}")
    def fail(kind: str) -> dict[str, str]:
        raise errors[kind]

    app.include_router(router)
    return app


@pytest.fixture
def client() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=build_app()), base_url=INFO.base_url)


def assert_problem(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status
    assert answer.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert answer.headers["api-version"] == "2.3.4"
    assert answer.headers["x-content-type-options"] == "nosniff"
    body: dict[str, Any] = answer.json()
    assert body["type"] == "https://regie.example/problems/" + code
    assert body["status"] == status
    assert body["title"] and body["detail"]
    assert SECRET not in answer.text
    assert "Traceback" not in answer.text
    return body


ERROR_CASES = {
    "malformed input -> 400": ("malformed", 400, "malformed"),
    "signature refused -> 400 with its code": ("signature", 400, "algorithm_refused"),
    "time refused -> 400": ("time", 400, "expired"),
    "key binding refused -> 400": ("keybinding", 400, "sd_hash_mismatch"),
    "status refused -> 403": ("status", 403, "suspended"),
    "refused while authenticating -> 401": ("auth", 401, "signature_invalid"),
    "unavailable -> 503": ("unavailable", 503, "unavailable"),
    "misuse -> 500, nothing said": ("misuse", 500, "internal_error"),
    "any other exception -> 500, nothing said": ("bug", 500, "internal_error"),
}


async def test_baseline_answers_have_the_headers(client: httpx.AsyncClient) -> None:
    async with client:
        created = await client.post("/v2/items", json={"name": "a", "count": 1})
        cached = await client.get("/v2/cached")
    assert created.status_code == 201
    assert created.headers["api-version"] == "2.3.4"
    assert created.headers["cache-control"] == "no-store"
    assert created.headers["x-content-type-options"] == "nosniff"
    assert cached.headers["cache-control"] == "max-age=60"  # a route's own choice stays


@pytest.mark.parametrize("case", ERROR_CASES.values(), ids=ERROR_CASES.keys())
async def test_errors_become_problems(
    client: httpx.AsyncClient, case: tuple[str, int, str], caplog: pytest.LogCaptureFixture
) -> None:
    kind, status, code = case
    with caplog.at_level(logging.INFO, logger="regie.http"):
        async with client:
            answer = await client.get(f"/v2/fail/{kind}")
    assert_problem(answer, status, code)
    assert SECRET in caplog.text  # inward, say all
    if status == 401:
        assert answer.headers["www-authenticate"].startswith("Bearer")


REQUEST_CASES = {
    "missing member": ({"name": "a"}, 400, "invalid_params"),
    "wrong type": ({"name": "a", "count": "many"}, 400, "invalid_params"),
    "extra member": ({"name": "a", "count": 1, "owner": "x"}, 400, "invalid_params"),
    "duplicate member": (b'{"name":"a","count":1,"count":2}', 400, "duplicate_member"),
    "NaN": (b'{"name":"a","count":NaN}', 400, "malformed"),
    "too deep": (b'{"name":' + b"[" * 40 + b"]" * 40 + b',"count":1}', 400, "depth_exceeded"),
    "not JSON": (b"{name", 400, "malformed"),
    "over the size cap": ({"name": "a" * 3000, "count": 1}, 413, "body_too_large"),
}


@pytest.mark.parametrize("case", REQUEST_CASES.values(), ids=REQUEST_CASES.keys())
async def test_bad_requests_become_problems(
    client: httpx.AsyncClient, case: tuple[Any, int, str]
) -> None:
    body, status, code = case
    async with client:
        if isinstance(body, bytes):
            headers = {"Content-Type": "application/json"}
            answer = await client.post("/v2/items", content=body, headers=headers)
        else:
            answer = await client.post("/v2/items", json=body)
    problem = assert_problem(answer, status, code)
    if code == "invalid_params":
        params = problem["invalidParams"]
        assert params and {"name", "code", "reason"} <= params[0].keys()
        assert "many" not in answer.text  # the input is not echoed


@pytest.mark.parametrize(
    ("length", "status", "code"),
    [("2x", 400, "malformed"), ("-2", 400, "malformed"), ("9" * 5000, 413, "body_too_large")],
    ids=["not a number", "negative", "absurdly long"],
)
async def test_bad_content_length_is_refused(
    client: httpx.AsyncClient, length: str, status: int, code: str
) -> None:
    async with client:
        answer = await client.post(
            "/v2/items", content=b"{}", headers={"Content-Length": length, "Content-Type": "x/y"}
        )
    assert_problem(answer, status, code)


ROUTE_CASES = {
    "unknown path": ("GET", "/v2/nothing", 404, "not_found"),
    "trailing slash is not redirected": ("POST", "/v2/items/", 404, "not_found"),
    "wrong method": ("DELETE", "/v2/items", 405, "method_not_allowed"),
}


@pytest.mark.parametrize("case", ROUTE_CASES.values(), ids=ROUTE_CASES.keys())
async def test_routing_problems(client: httpx.AsyncClient, case: tuple[str, str, int, str]) -> None:
    method, path, status, code = case
    async with client:
        answer = await client.request(method, path)
    assert_problem(answer, status, code)


def test_problem_response_shape() -> None:
    answer = problem_response(409, Code.REVOKED, "Revoked", "It stays revoked.")
    assert answer.media_type == PROBLEM_MEDIA_TYPE
    assert answer.body == (
        b'{"type":"https://regie.example/problems/revoked","title":"Revoked",'
        b'"status":409,"detail":"It stays revoked."}'
    )
    assert problem_title(ProblemCode.BODY_TOO_LARGE) == "Body too large"


def test_problem_codes_never_collide_with_refusal_codes() -> None:
    assert not {c.value for c in ProblemCode} & {c.value for c in Code}


def test_public_surface() -> None:
    exported = {name for name in dir(http_pkg) if not name.startswith("_")}
    assert set(http_pkg.__all__) == exported - {"annotations"}


def test_openapi_follows_nlgov_shape() -> None:
    doc = build_app().openapi()
    assert doc["openapi"].startswith("3.1")
    assert doc["info"]["version"] == "2.3.4"
    assert set(doc["info"]["contact"]) == {"name", "url", "email"}
    assert doc["servers"] == [{"url": "https://svc.example/v2"}]
    post = doc["paths"]["/items"]["post"]["responses"]
    assert "422" not in post
    assert {"201", "400", "413", "500"} <= post.keys()
    assert post["201"]["headers"]["API-Version"]
    assert set(post["400"]["content"]) == {PROBLEM_MEDIA_TYPE}
    assert "HTTPValidationError" not in doc["components"]["schemas"]


def test_openapi_keeps_well_known_paths_kebab_case() -> None:
    schema = {"openapi": "3.1.0", "info": {}, "paths": {"/.well-known/x-meta": {"get": {}}}}
    doc = nlgov_openapi(schema, INFO)
    assert doc["paths"]["/x-meta"]["servers"] == [{"url": "https://svc.example/.well-known"}]


@pytest.mark.parametrize("version", ["1", "1.0", "v1.0.0", "1.0.0.0", "01.0.0"])
def test_service_info_wants_semver(version: str) -> None:
    with pytest.raises(Misuse):
        ServiceInfo("t", version, "d", INFO.contact, INFO.base_url)
