"""require_consent as a FastAPI dependency: 401 without a token, 403 with the reason, else 200.

The service below is the whole adoption (the docstring's ~20 lines), served
through httpx's ASGI transport with Regie's HTTP conventions installed.
"""

from __future__ import annotations

import pytest
from fastapi import Depends, FastAPI

from regie_protocol.consent import StatusRef
from regie_protocol.http import PROBLEM_TYPE_BASE, Contact, ServiceInfo, create_service_app
from regie_protocol.statuslist import Status
from tests.verifier.asgi import asgi_client
from tests.verifier.world import (
    IDX,
    MARKETING,
    OTHER_VERIFIER,
    SERVICE_PROVISION,
    STATUS_URI,
    World,
    make_world,
)
from verifier.dependency import require_consent
from verifier.verify import VerifiedConsentToken


def desk(world: World) -> FastAPI:
    policy, cache = world.policy(), world.cache()
    info = ServiceInfo(
        title="desk",
        api_version="1.0.0",
        description="test",
        contact=Contact(name="x", url="https://x.example", email="x@x.example"),
        base_url="https://desk.example",
    )
    app = create_service_app(info)
    guard = require_consent(
        attributes={"address"},
        purpose=SERVICE_PROVISION,
        policy_provider=lambda: policy,
        status_provider=lambda: cache,
    )

    @app.post("/v1/permits")
    def permit(consent: VerifiedConsentToken = Depends(guard)) -> dict[str, str]:
        return {"consent": consent.jti}

    return app


def _problem_type(response: object) -> str:
    body = response.json()  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    assert set(body) >= {"type", "title", "status", "detail"}
    return str(body["type"]).removeprefix(PROBLEM_TYPE_BASE)


def test_valid_consent_passes() -> None:
    world = make_world()
    client = asgi_client(desk(world), "https://desk.example")
    response = client.post("/v1/permits", headers={"Authorization": f"Bearer {world.token()}"})
    assert response.status_code == 200
    assert response.json() == {"consent": "consent-0001"}


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer ", "DPoP abc", "Basic dXNlcjpwYXNz"],
    ids=["none", "bearer-empty", "bearer-space", "dpop-scheme", "basic"],
)
def test_missing_token_is_401(authorization: str | None) -> None:
    world = make_world()
    headers = {} if authorization is None else {"Authorization": authorization}
    response = asgi_client(desk(world), "https://desk.example").post("/v1/permits", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert _problem_type(response) == "unauthenticated"


CASES = {
    "revoked": (lambda w: w.server.set(STATUS_URI, IDX, Status.INVALID), None, "revoked"),
    "other-audience": (None, {"aud": OTHER_VERIFIER}, "audience_mismatch"),
    "other-purpose": (
        None,
        {"authorization_details": None},  # replaced below by a Marketing entry
        "not_consented",
    ),
    "expired": (lambda w: setattr(w.clock, "now", w.clock.now + 100 * 86400), None, "expired"),
    "garbage": (None, "garbage", "malformed"),
    "unknown-index": (None, {"status": StatusRef(idx=99_999, uri=STATUS_URI)}, None),
}


@pytest.mark.parametrize("name", list(CASES))
def test_refused_consent_is_403_with_the_reason(name: str) -> None:
    from tests.verifier.world import detail

    setup, changes, reason = CASES[name]
    world = make_world()
    if changes == "garbage":
        token = "not-a-token"
    elif changes is not None and "authorization_details" in changes:
        token = world.token(authorization_details=(detail(purpose=MARKETING),))
    else:
        token = world.token(**(changes or {}))  # type: ignore[arg-type]
    if setup is not None:
        setup(world)
    response = asgi_client(desk(world), "https://desk.example").post(
        "/v1/permits", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 403
    kind = _problem_type(response)
    assert kind == (reason or "status_index_out_of_range")
    assert response.json()["detail"] == "The consent does not allow this request."
    assert "consent-0001" not in response.text


def test_status_unreachable_is_503_fail_closed() -> None:
    world = make_world()
    world.server.down = True
    response = asgi_client(desk(world), "https://desk.example").post(
        "/v1/permits", headers={"Authorization": f"Bearer {world.token()}"}
    )
    assert response.status_code == 503
    assert _problem_type(response) == "unavailable"


def test_openapi_declares_the_bearer_scheme_and_401() -> None:
    document = desk(make_world()).openapi()
    operation = document["paths"]["/permits"]["post"]
    assert operation["security"] == [{"consentToken": []}]
    assert "401" in operation["responses"]
