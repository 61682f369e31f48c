"""The parties of ``regie demo``, each its real service on the demo's in-process network.

* the municipality's BRP: :mod:`issuer`'s HTTP app over a real state file;
* Anna's wallet host: :func:`wallet.host.create_app` on her wallet's database;
* the parking-permit desk: :mod:`verifier.example_service` with its own home
  (identity file 0600, trust file, SQLite store), its HTTP client on the network.

All share one :class:`~regie.demo_net.DemoClock`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from issuer.app import create_app as create_issuer_app
from issuer.issuer import IssuedCredential, Issuer, new_state
from issuer.settings import IssuerSettings
from issuer.sources import CREDENTIAL_TYPES, SOURCES, Source
from issuer.state import StateFile, write_private_file
from regie_protocol import vocab
from regie_protocol.consent import LocalizedText
from regie_protocol.keys import Alg, PublicKey, SigningKey, Unprotected
from regie_protocol.registry import RegisteredVerifier, Registry
from regie_protocol.statuslist import Status
from verifier.client import WalletHostClient
from verifier.context import VerifierContext
from verifier.example_service import create_app as create_desk_app
from verifier.identity import VerifierIdentity, save_identity
from verifier.policy import ConsentPolicy
from verifier.settings import VerifierSettings
from verifier.trust import Trust, parse_jwks, save_trust
from wallet.host import HostSettings
from wallet.host import create_app as create_host_app

from .demo_net import DemoClock, InProcessNetwork

HOST_URL = "https://wallet.regie.example"
PARKING_DESK = "https://parkeren.gemeente-utrecht.example"
DESK_NAME = "Gemeente Utrecht — Parkeervergunningen"
REGISTRAR = "https://registrar.regie.example"
SERVICE = vocab.DPV + "ServiceProvision"
PERMIT_TEXT = LocalizedText(
    nl="Uw parkeervergunning geven voor het adres waar u woont",
    en="Give you a parking permit for the address where you live",
)
DAY = 86400


@dataclass(frozen=True)
class Brp:
    """The municipality's BRP: its key, its state file, its source description."""

    source: Source
    key: SigningKey
    store: StateFile

    def issue(self, claims: Mapping[str, Any], holder: PublicKey, *, now: int) -> IssuedCredential:
        with self.store.transaction() as state:
            issuer = Issuer(state, self.key, CREDENTIAL_TYPES)
            return issuer.issue(vct=self.source.ctype.vct, claims=claims, holder=holder, now=now)

    def revoke(self, index: int) -> None:
        with self.store.transaction() as state:
            Issuer(state, self.key, CREDENTIAL_TYPES).set_status(index, Status.INVALID)


def start_brp(home: Path, net: InProcessNetwork, clock: DemoClock) -> Brp:
    """The BRP's real HTTP service (metadata, keys, status list), on the network."""
    source = SOURCES["brp"]
    store = StateFile(home / "issuers" / "brp.json")
    store.create(new_state(source.issuer_id))
    key = SigningKey.generate(Alg.EDDSA)
    key_file = store.path.parent / "brp-key.jwk"
    write_private_file(key_file, key.export_private_jwk(protection=Unprotected()))
    settings = IssuerSettings(
        issuer_id=source.issuer_id,
        key_file=key_file,
        state_file=store.path,
        admin_token="demo-" + "x" * 40,
        dev=True,
    )
    net.serve(source.issuer_id, create_issuer_app(settings, clock=clock))
    return Brp(source, key, store)


def start_host(wallet_home: Path, net: InProcessNetwork, clock: DemoClock) -> FastAPI:
    """Anna's wallet host on her wallet's database (its status-list key made on start)."""
    app = create_host_app(HostSettings(home=wallet_home, host_url=HOST_URL), clock=clock)
    net.serve(HOST_URL, app)
    return app


def registry_listing(desk: VerifierIdentity, *, now: int) -> tuple[Registry, SigningKey]:
    """The registrar's list with the desk: the address, for providing the service."""
    registrar = SigningKey.generate(Alg.EDDSA)
    entry = RegisteredVerifier.from_json(
        desk.registration(attributes={"address"}, purposes={SERVICE})
    )
    return Registry.new(REGISTRAR, now=now).with_verifier(entry, now=now), registrar


@dataclass
class Desk:
    """The parking-permit desk: its context (identity, trust, store) and a client to call it."""

    context: VerifierContext
    #: a client on the network, for calling the desk's own service
    http: httpx.Client

    @property
    def identity(self) -> VerifierIdentity:
        return self.context.identity

    def host(self) -> WalletHostClient:
        return self.context.client(HOST_URL)

    def policy(self) -> ConsentPolicy:
        return self.context.policy(frozenset({"address"}), SERVICE)

    def close(self) -> None:
        self.context.store.close()


def open_desk(
    home: Path,
    net: InProcessNetwork,
    clock: DemoClock,
    identity: VerifierIdentity,
    issuer_keys: Mapping[str, Mapping[str, PublicKey]],
) -> Desk:
    """The desk's home and service; it trusts the host's keys (``GET /v1/keys``) and the BRP."""
    http = net.client()
    host_keys = parse_jwks(http.get(HOST_URL + "/v1/keys").json(), what="the wallet host")
    settings = VerifierSettings(home=home, base_url=PARKING_DESK)
    save_identity(identity, settings.identity_file)
    save_trust(Trust({HOST_URL: host_keys}, issuer_keys), settings.trust_file)
    context = VerifierContext.open(settings, clock=clock, http=http, identity=identity)
    net.serve(PARKING_DESK, create_desk_app(settings, context=context))
    return Desk(context, http)


__all__ = [
    "DAY",
    "DESK_NAME",
    "HOST_URL",
    "PARKING_DESK",
    "PERMIT_TEXT",
    "REGISTRAR",
    "SERVICE",
    "Brp",
    "Desk",
    "open_desk",
    "registry_listing",
    "start_brp",
    "start_host",
]
