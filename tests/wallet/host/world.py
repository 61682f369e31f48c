"""A real wallet and a real wallet host for host tests: no mocks of storage or crypto.

The citizen's wallet (unsafe-fast KDF) holds a BRP credential issued by
:class:`issuer.Issuer`, and a signed verifier registry with two verifiers (A
and B, each with a signing and an encryption key). The host app is the one
:func:`wallet.host.create_app` builds, on the same database, reached through
:class:`AsgiClient` (httpx's ASGI transport; Starlette's ``TestClient``
warns about httpx here); its clock is :attr:`World.clock`, which a test moves.
:meth:`World.consent` runs the real flow: the verifier signs a request, posts
it, the citizen approves it (:func:`wallet.requests.approve`), the verifier
collects the consent token with DPoP.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx
from fastapi import FastAPI

from regie_protocol import vocab
from regie_protocol.consent_request import ConsentRequestClaims, sign_request
from regie_protocol.dpop import create_proof
from regie_protocol.keys import Alg, EncryptionKey, SigningKey
from regie_protocol.registry import RegisteredVerifier, Registry
from tests.wallet.consents.helpers import issue_credentials, new_wallet
from tests.wallet.databases import Target
from wallet.consent_terms import GDPR_CONSENT
from wallet.core import UnlockedWallet
from wallet.host import HostSettings, create_app
from wallet.registry_store import add_registry
from wallet.requests import approve
from wallet.storage import Database

HOST_URL = "https://wallet.regie.example"
REGISTRAR = "https://registrar.regie.example"
VERIFIER_A = "https://parkeren.utrecht.example"
VERIFIER_B = "https://ouderenpas.utrecht.example"
UNREGISTERED = "https://onbekend.example"
SERVICE = vocab.DPV + "ServiceProvision"
DAY = 86400
NOW = 1_790_000_000


class AsgiClient:
    """A synchronous client that sends each request to the app through ``httpx.ASGITransport``."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def request(self, method: str, url: str, **options: Any) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url=HOST_URL) as client:
                return await client.request(method, url, **options)

        return anyio.run(send)

    def get(self, url: str, **options: Any) -> httpx.Response:
        return self.request("GET", url, **options)

    def post(self, url: str, **options: Any) -> httpx.Response:
        return self.request("POST", url, **options)


@dataclass
class Clock:
    now: int = NOW

    def __call__(self) -> int:
        return self.now


@dataclass(frozen=True)
class Verifier:
    id: str
    key: SigningKey
    enc: EncryptionKey

    def registration(self, attributes: frozenset[str]) -> RegisteredVerifier:
        return RegisteredVerifier(
            id=self.id,
            name=f"Verifier {self.id}",
            signing_keys=(self.key.public_key,),
            attributes=attributes,
            purposes=frozenset({SERVICE}),
            encryption_keys=(self.enc.public_key,),
        )


def new_verifier(verifier_id: str, alg: Alg = Alg.EDDSA) -> Verifier:
    return Verifier(verifier_id, SigningKey.generate(alg), EncryptionKey.generate())


def request_claims(now: int, **fields: Any) -> ConsentRequestClaims:
    """A request to :data:`HOST_URL` made at ``now``: address, for 30 days; ``fields`` win.

    ``fields`` name at least ``iss`` and ``inbox``.
    """
    defaults: dict[str, Any] = {
        "aud": HOST_URL,
        "jti": f"req-{secrets.token_hex(6)}",
        "iat": now,
        "exp": now + DAY,
        "attributes": ("address",),
        "purpose": SERVICE,
        "legal_basis": GDPR_CONSENT,
        "valid_for": 30 * DAY,
    }
    return ConsentRequestClaims(**{**defaults, **fields})


@dataclass(frozen=True)
class Granted:
    """A consent the citizen approved, as the verifier collected it."""

    id: str
    token: str
    request_id: str


@dataclass
class World:
    target: Target
    db: Database
    wallet: UnlockedWallet
    registry: Registry
    a: Verifier
    b: Verifier
    settings: HostSettings
    client: AsgiClient
    clock: Clock = field(default_factory=Clock)

    @property
    def host_db(self) -> Database:
        db: Database = self.client.app.state.host.db
        return db

    # --- requests ---

    def request_claims(
        self, verifier: Verifier | None = None, **changes: Any
    ) -> ConsentRequestClaims:
        return request_claims(
            self.clock.now,
            **{
                "iss": (verifier or self.a).id,
                "inbox": self.wallet.owner,
                "optional_attributes": ("given_name",),
                **changes,
            },
        )

    def signed_request(
        self, verifier: Verifier | None = None, *, key: SigningKey | None = None, **changes: Any
    ) -> str:
        signer = key or (verifier or self.a).key
        return sign_request(self.request_claims(verifier, **changes), key=signer)

    def post_request(self, token: str, headers: Mapping[str, str] | None = None) -> httpx.Response:
        return self.client.post("/v1/requests", json={"request": token}, headers=headers or {})

    def get_request(self, request_id: str, key: SigningKey, **proof: Any) -> httpx.Response:
        url = f"{HOST_URL}/v1/requests/{request_id}"
        dpop = create_proof(key, htm="GET", htu=url, now=self.clock.now, **proof)
        return self.client.get(f"/v1/requests/{request_id}", headers={"DPoP": dpop})

    def consent(self, verifier: Verifier | None = None, **changes: Any) -> Granted:
        """The whole flow: request, approval by the citizen, collection with DPoP."""
        who = verifier or self.a
        posted = self.post_request(self.signed_request(who, **changes))
        assert posted.status_code == 201, posted.text
        request_id = posted.json()["id"]
        approved = approve(
            self.wallet, request_id, registry=self.registry, now=self.clock.now, host_url=HOST_URL
        )
        answer = self.get_request(request_id, who.key)
        assert answer.status_code == 200, answer.text
        assert answer.json()["state"] == "approved"
        return Granted(approved.consent.id, answer.json()["consentToken"], request_id)

    # --- reads ---

    def proof(
        self,
        key: SigningKey,
        token: str | None,
        *,
        htm: str = "POST",
        htu: str = HOST_URL + "/v1/data",
        iat: int | None = None,
    ) -> str:
        now = self.clock.now if iat is None else iat
        return create_proof(key, htm=htm, htu=htu, now=now, access_token=token)

    def read(
        self,
        token: str,
        *,
        key: SigningKey | None = None,
        proof: str | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        dpop: bool = True,
    ) -> httpx.Response:
        sent = {"Authorization": f"DPoP {token}", **(headers or {})}
        if dpop:
            sent["DPoP"] = proof or self.proof(key or self.a.key, token)
        return self.client.post("/v1/data", json=body, headers=sent)


@contextmanager
def make_world(target: Target, **settings: Any) -> Iterator[World]:
    """A wallet with a BRP credential and a registry, and the host app over the same database."""
    db = target.open()
    try:
        wallet = new_wallet(db, now=NOW)
        issue_credentials(wallet, now=NOW, sources=("brp",))
        a, b = new_verifier(VERIFIER_A), new_verifier(VERIFIER_B, Alg.ES256)
        registrar = SigningKey.generate(Alg.EDDSA)
        registry = (
            Registry.new(REGISTRAR, now=NOW)
            .with_verifier(a.registration(frozenset({"address", "given_name"})), now=NOW)
            .with_verifier(b.registration(frozenset({"address"})), now=NOW)
        )
        add_registry(
            wallet, registry.sign(registrar), now=NOW, registrar_jwk=registrar.public_key.to_jwk()
        )
        host_settings = HostSettings(
            home=target.home, database_url=target.url, host_url=HOST_URL, **settings
        )
        clock = Clock()
        app = create_app(host_settings, clock=clock)
        try:
            yield World(target, db, wallet, registry, a, b, host_settings, AsgiClient(app), clock)
        finally:
            app.state.host.close()
    finally:
        db.dispose()


__all__ = [
    "DAY",
    "HOST_URL",
    "NOW",
    "REGISTRAR",
    "SERVICE",
    "UNREGISTERED",
    "VERIFIER_A",
    "VERIFIER_B",
    "AsgiClient",
    "Clock",
    "Granted",
    "Verifier",
    "World",
    "make_world",
    "new_verifier",
    "request_claims",
]
