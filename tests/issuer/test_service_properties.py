"""Properties: the key proof parser and the protocol endpoints answer hostile input only with
typed refusals (a RegieError in the library, a 4xx over HTTP), never another exception or 5xx."""

from __future__ import annotations

import contextlib
import time
from typing import Any

import anyio
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from issuer.proofs import verify_key_proof
from regie_protocol.errors import RegieError
from regie_protocol.keys import Alg, SigningKey

from .service_harness import ISSUER_ID, Harness, access_token, key_proof, start

HOLDER = SigningKey.generate(Alg.EDDSA)
NOW = int(time.time())
GOOD_PROOF = key_proof(HOLDER, nonce="n-0123456789", iat=NOW)
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~=+/ {}\"'\x00é"


def test_the_unmutated_proof_verifies() -> None:
    proof = verify_key_proof(GOOD_PROOF, audience=ISSUER_ID, now=NOW, max_age=300)
    assert proof.holder_key == HOLDER.public_key


@st.composite
def mutated_proofs(draw: st.DrawFn) -> str:
    chars = list(GOOD_PROOF)
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(chars) - 1))
        chars[position] = draw(st.sampled_from(ALPHABET))
    return "".join(chars)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=400), mutated_proofs()))
def test_key_proof_parser_raises_only_typed_errors(token: str) -> None:
    with contextlib.suppress(RegieError):
        verify_key_proof(token, audience=ISSUER_ID, now=NOW, max_age=300)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
BODIES = st.one_of(
    st.binary(max_size=300),
    JSON.map(lambda value: {"json": value}),
    st.fixed_dictionaries(
        {"credential_configuration_id": st.text(max_size=30), "proofs": JSON}
    ).map(lambda value: {"json": value}),
)


async def _post(harness: Harness, token: str, body: bytes | dict[str, Any]) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    async with harness.client() as client:
        if isinstance(body, bytes):
            headers["Content-Type"] = "application/json"
            return await client.post("/v1/credential", content=body, headers=headers)
        return await client.post("/v1/credential", json=body["json"], headers=headers)


async def _token(harness: Harness) -> str:
    async with harness.client() as client:
        return await access_token(client)


def test_credential_endpoint_refuses_garbage_with_4xx(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    harness = start(tmp_path_factory.mktemp("issuer"), SigningKey.generate(Alg.EDDSA))
    token = anyio.run(_token, harness)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(BODIES)
    def check(body: bytes | dict[str, Any]) -> None:
        answer = anyio.run(_post, harness, token, body)
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"] in {
            "invalid_credential_request",
            "invalid_proof",
            "unknown_credential_configuration",
        }

    check()


def test_token_endpoint_refuses_garbage_with_4xx(tmp_path_factory: pytest.TempPathFactory) -> None:
    harness = start(tmp_path_factory.mktemp("issuer"), SigningKey.generate(Alg.EDDSA))

    async def post(body: bytes, content_type: str) -> httpx.Response:
        async with harness.client() as client:
            return await client.post(
                "/v1/token", content=body, headers={"Content-Type": content_type}
            )

    @settings(max_examples=80, deadline=None)
    @given(
        st.binary(max_size=300) | st.text(max_size=200).map(str.encode),
        st.sampled_from(["application/x-www-form-urlencoded", "application/json", "text/plain"]),
    )
    def check(body: bytes, content_type: str) -> None:
        answer = anyio.run(post, body, content_type)
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"] in {
            "invalid_request",
            "invalid_grant",
            "unsupported_grant_type",
        }

    check()
