"""``POST /v1/data``'s own parameter handling (:class:`wallet.host.data_params.DataRoute`).

The route is served without FastAPI's dependency solver; these are the
answers FastAPI would give for the parameters it documents: a header over
its length and a body that is not a ``DataRequest`` are ``400
invalid_params`` naming the parameter, a JSON ``null`` body is no body
(the same answers as FastAPI's own handling of :func:`read_data`'s signature).
"""

from __future__ import annotations

import httpx

from regie_protocol.http import PROBLEM_TYPE_BASE
from wallet.host.data_params import DPOP_MAX_CHARS, IDEMPOTENCY_KEY_MAX_CHARS

from .world import World


def _invalid_params(response: httpx.Response) -> list[str]:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == PROBLEM_TYPE_BASE + "invalid_params"
    return [param["name"] for param in problem["invalidParams"]]


def test_headers_over_their_length_are_named(sqlite_world: World) -> None:
    granted = sqlite_world.consent()
    too_long = sqlite_world.read(granted.token, proof="x" * (DPOP_MAX_CHARS + 1))
    assert _invalid_params(too_long) == ["header.DPoP"]
    key = {"Idempotency-Key": "k" * (IDEMPOTENCY_KEY_MAX_CHARS + 1)}
    assert _invalid_params(sqlite_world.read(granted.token, headers=key)) == [
        "header.Idempotency-Key"
    ]


def test_a_body_that_is_not_json_by_its_media_type_is_refused(sqlite_world: World) -> None:
    granted = sqlite_world.consent()
    for content_type in ("text/plain", None):
        headers = {"Authorization": f"DPoP {granted.token}", "DPoP": "x"}
        if content_type is not None:
            headers["Content-Type"] = content_type
        response = sqlite_world.client.post(
            "/v1/data", content=b'{"attributes": ["address"]}', headers=headers
        )
        assert _invalid_params(response) == ["body"]


def test_wrong_attribute_names_are_named(sqlite_world: World) -> None:
    granted = sqlite_world.consent()
    response = sqlite_world.read(granted.token, body={"attributes": ["Address!"], "x": 1})
    assert sorted(_invalid_params(response)) == ["attributes.0", "x"]


def test_a_null_body_asks_for_everything(sqlite_world: World) -> None:
    granted = sqlite_world.consent()
    response = sqlite_world.client.post(
        "/v1/data",
        content=b"null",
        headers={
            "Authorization": f"DPoP {granted.token}",
            "DPoP": sqlite_world.proof(sqlite_world.a.key, granted.token),
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["attributes"] == ["address", "given_name"]
