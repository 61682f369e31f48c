"""A real issuer service for tests: a key file, a state file, an adjustable clock, httpx.

No mocks: the app is the one ``create_app`` builds, reached through
``httpx.ASGITransport`` (or a real uvicorn in test_service_uvicorn.py). The
clock starts at the real time; a test moves it through ``Harness.clock``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from issuer.app import create_app
from issuer.metadata import PRE_AUTHORIZED_GRANT
from issuer.settings import IssuerSettings
from issuer.sources import SOURCES
from regie_protocol._encoding import b64url_encode, dumps_compact
from regie_protocol.keys import SigningKey, Unprotected
from regie_protocol.private_files import write_private_file

ISSUER_ID = "https://brp.gemeente-utrecht.example"
ADMIN_TOKEN = "test-admin-token-4f9b2c7e1a8d3f6b0c5e9a2d7f1b4c8e"
PROOF_TYP = "openid4vci-proof+jwt"
BRP = SOURCES["brp"]
BRP_CONFIG = "brp-persoonsgegevens"


@dataclass
class Clock:
    now: int = field(default_factory=lambda: int(time.time()))

    def __call__(self) -> int:
        return self.now


def write_key(path: Path, key: SigningKey) -> Path:
    write_private_file(path, key.export_private_jwk(protection=Unprotected()))
    return path


def make_settings(tmp_path: Path, key: SigningKey, **overrides: Any) -> IssuerSettings:
    values: dict[str, Any] = {
        "issuer_id": ISSUER_ID,
        "key_file": write_key(tmp_path / "issuer-key.jwk", key),
        "state_file": tmp_path / "issuer-state.json",
        "admin_token": ADMIN_TOKEN,
        **overrides,
    }
    return IssuerSettings(**values)


def jws_compact(header: Mapping[str, Any], claims: Mapping[str, Any], key: SigningKey) -> str:
    """A compact JWS with any header (jws.sign writes alg/typ/kid only)."""
    signing_input = (
        b64url_encode(dumps_compact(dict(header)))
        + "."
        + b64url_encode(dumps_compact(dict(claims)))
    )
    return signing_input + "." + b64url_encode(key.sign(signing_input.encode("ascii")))


def key_proof(
    holder: SigningKey,
    *,
    nonce: str | None,
    iat: int,
    aud: str = ISSUER_ID,
    header: Mapping[str, Any] | None = None,
    claims: Mapping[str, Any] | None = None,
    sign_with: SigningKey | None = None,
) -> str:
    """An OpenID4VCI jwt key proof; ``header``/``claims`` override members (None removes)."""
    head: dict[str, Any] = {
        "alg": holder.alg.value,
        "typ": PROOF_TYP,
        "jwk": holder.public_key.to_jwk(),
    }
    body: dict[str, Any] = {"aud": aud, "iat": iat, "nonce": nonce}
    for target, changes in ((head, header), (body, claims)):
        for name, value in (changes or {}).items():
            target[name] = value
    head = {k: v for k, v in head.items() if v is not None}
    body = {k: v for k, v in body.items() if v is not None}
    return jws_compact(head, body, sign_with or holder)


@dataclass
class Harness:
    app: FastAPI
    settings: IssuerSettings
    issuer_key: SigningKey
    clock: Clock

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url=self.settings.issuer_id
        )


def start(tmp_path: Path, key: SigningKey, **overrides: Any) -> Harness:
    clock = Clock()
    settings = make_settings(tmp_path, key, **overrides)
    return Harness(create_app(settings, clock=clock), settings, key, clock)


ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def offer(client: httpx.AsyncClient, claims: Mapping[str, Any] | None = None) -> str:
    """Create a BRP offer; returns its pre-authorised code."""
    body = {"credentialConfigurationId": BRP_CONFIG, "claims": dict(claims or BRP.sample)}
    answer = await client.post("/v1/credential-offers", json=body, headers=ADMIN)
    assert answer.status_code == 201, answer.text
    grant = answer.json()["credentialOffer"]["grants"][PRE_AUTHORIZED_GRANT]
    code: str = grant["pre-authorized_code"]
    return code


async def redeem(client: httpx.AsyncClient, code: str) -> httpx.Response:
    return await client.post(
        "/v1/token", data={"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": code}
    )


async def access_token(client: httpx.AsyncClient) -> str:
    answer = await redeem(client, await offer(client))
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


async def c_nonce(client: httpx.AsyncClient) -> str:
    answer = await client.post("/v1/nonce")
    assert answer.status_code == 200, answer.text
    value: str = answer.json()["c_nonce"]
    return value


async def request_credential(
    client: httpx.AsyncClient, token: str, proof: str, config: str = BRP_CONFIG
) -> httpx.Response:
    return await client.post(
        "/v1/credential",
        json={"credential_configuration_id": config, "proofs": {"jwt": [proof]}},
        headers={"Authorization": f"Bearer {token}"},
    )


__all__ = [
    "ADMIN",
    "ADMIN_TOKEN",
    "BRP",
    "BRP_CONFIG",
    "ISSUER_ID",
    "Clock",
    "Harness",
    "access_token",
    "c_nonce",
    "jws_compact",
    "key_proof",
    "make_settings",
    "offer",
    "redeem",
    "request_credential",
    "start",
    "write_key",
]
