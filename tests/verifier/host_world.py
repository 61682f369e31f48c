"""The verifier's client against the REAL wallet host app, with a real wallet behind it.

The citizen's wallet (unsafe-fast KDF) holds a BRP credential issued by
:class:`issuer.Issuer` (its key and status list known to the test), and a
signed registry naming the parking desk's :class:`~verifier.identity.VerifierIdentity`.
The host is :func:`wallet.host.create_app` on the same database; the issuer's
status list is served by a one-route app signing the issuer's real list. Both
are reached through :func:`tests.verifier.asgi.asgi_client` by origin, so the
verifier's code runs unchanged over httpx. The citizen approves with
:func:`wallet.requests.approve`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from issuer import SOURCES, Issuer
from regie_protocol.consent_request import ConsentRequestClaims
from regie_protocol.keys import Alg, SigningKey
from regie_protocol.registry import RegisteredVerifier, Registry
from tests.verifier.asgi import SyncAsgiTransport
from tests.wallet.consents.helpers import add_holder_key, issue_credential, new_wallet
from tests.wallet.databases import Target
from tests.wallet.host.world import DAY, HOST_URL, NOW, REGISTRAR, SERVICE, Clock, request_claims
from verifier.client import WalletHostClient
from verifier.fetch import AllowListFetcher
from verifier.identity import VerifierIdentity
from verifier.policy import ConsentPolicy
from verifier.status_cache import StatusListCache
from verifier.store import VerifierStore
from verifier.trust import parse_jwks
from wallet.core import UnlockedWallet
from wallet.host import HostSettings, create_app
from wallet.registry_store import add_registry
from wallet.requests import approve

DESK = "https://parkeren.utrecht.example"
BRP = SOURCES["brp"]

Rewrite = Callable[[httpx.Request, httpx.Response], httpx.Response]


class RewritingTransport(SyncAsgiTransport):
    """The real apps, with an optional hand in the middle (an attacker on the path)."""

    rewrite: Rewrite | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if self.rewrite is None:
            return response
        response.read()
        return self.rewrite(request, response)


def status_app(issuer: Issuer, clock: Clock) -> Starlette:
    async def status_list(request: Request) -> Response:
        token = issuer.status_list_token(now=clock.now)
        return Response(token, media_type="application/statuslist+jwt")

    path = issuer.status_list_uri.removeprefix(issuer.issuer_id)
    return Starlette(routes=[Route(path, status_list)])


@dataclass
class HostWorld:
    target: Target
    wallet: UnlockedWallet
    registry: Registry
    identity: VerifierIdentity
    issuer: Issuer
    holder: SigningKey
    sd_jwt: str
    status_index: int
    transport: RewritingTransport
    http: httpx.Client
    cache: StatusListCache
    client: WalletHostClient
    store: VerifierStore
    clock: Clock
    host_app: Any
    host_keys: dict[str, Any]
    #: what a read test changes: the policy, the attributes asked for, the host read from
    policy_changes: dict[str, Any] = field(default_factory=dict)
    attributes: list[str] = field(default_factory=lambda: ["address"])
    read_from: str = HOST_URL

    def policy(self, **changes: Any) -> ConsentPolicy:
        policy = ConsentPolicy(
            audience=self.identity.id,
            attributes=frozenset(),
            purpose=SERVICE,
            trusted_hosts={HOST_URL: self.host_keys},
            trusted_issuers={BRP.issuer_id: self.issuer.public_keys()},
            holder_keys=self.store.holder_key,
            clock=self.clock,
            leeway=30,
        )
        return dataclasses.replace(policy, **changes)

    def request_claims(self, **changes: Any) -> ConsentRequestClaims:
        return request_claims(
            self.clock.now,
            **{"iss": self.identity.id, "inbox": self.wallet.owner, "retention": "P30D", **changes},
        )

    def approve(self, request_id: str, **options: Any) -> str:
        approved = approve(
            self.wallet,
            request_id,
            registry=self.registry,
            now=self.clock.now,
            host_url=HOST_URL,
            **options,
        )
        return approved.consent.id

    def consent(self, **changes: Any) -> str:
        """Request, approval, collection: the verified token, saved in the store."""
        claims = self.request_claims(**changes)
        request_id = self.client.submit_request(claims)
        self.approve(request_id)
        answer = self.client.answer(request_id)
        verified = self.client.verify_answer(answer, self.policy(), request_jti=claims.jti)
        assert answer.holder_jwk is not None
        self.store.save_consent(verified, answer.holder_jwk, now=self.clock.now)
        return verified.token


@contextmanager
def host_world(target: Target, tmp_path: Path) -> Iterator[HostWorld]:
    db = target.open()
    clock = Clock()
    try:
        wallet = new_wallet(db, now=NOW)
        holder = add_holder_key(wallet, now=NOW)
        issued = issue_credential(wallet, holder, "brp", now=NOW)
        issuer = issued.issuer
        identity = VerifierIdentity.generate(DESK, "Gemeente Utrecht — Parkeren", alg=Alg.ES256)
        registrar = SigningKey.generate(Alg.EDDSA)
        entry = RegisteredVerifier.from_json(
            identity.registration(attributes={"address", "given_name"}, purposes={SERVICE})
        )
        registry = Registry.new(REGISTRAR, now=NOW).with_verifier(entry, now=NOW)
        add_registry(
            wallet, registry.sign(registrar), now=NOW, registrar_jwk=registrar.public_key.to_jwk()
        )
        settings = HostSettings(home=target.home, database_url=target.url, host_url=HOST_URL)
        host_app = create_app(settings, clock=clock)
        transport = RewritingTransport(
            {HOST_URL: host_app, BRP.issuer_id: status_app(issuer, clock)}
        )
        http = httpx.Client(transport=transport)
        host_keys = parse_jwks(http.get(HOST_URL + "/v1/keys").json(), what="the host")
        trust_bases = (HOST_URL, BRP.issuer_id)
        store = VerifierStore.open(tmp_path / "verifier.sqlite3")
        world_policy = ConsentPolicy(
            audience=identity.id,
            attributes=frozenset(),
            purpose=None,
            trusted_hosts={HOST_URL: host_keys},
            trusted_issuers={BRP.issuer_id: issuer.public_keys()},
            holder_keys=store.holder_key,
            clock=clock,
            leeway=30,
        )
        cache = StatusListCache(
            fetch=AllowListFetcher(trust_bases, http=http),
            keys_for=world_policy.status_list_keys,
            clock=clock,
        )
        client = WalletHostClient(HOST_URL, identity, http=http, clock=clock, status=cache)
        try:
            yield HostWorld(
                target,
                wallet,
                registry,
                identity,
                issuer,
                holder,
                issued.credential.token,
                issued.credential.status_index,
                transport,
                http,
                cache,
                client,
                store,
                clock,
                host_app,
                host_keys,
            )
        finally:
            store.close()
            host_app.state.host.close()
    finally:
        db.dispose()


__all__ = ["BRP", "DAY", "DESK", "HOST_URL", "NOW", "SERVICE", "HostWorld", "host_world"]
