"""A real issuer service in-process, and fetchers that reach it without a network.

The issuer is the one ``issuer.app.create_app`` builds (tests/issuer/service_harness),
reached through ``httpx.ASGITransport``; credentials are issued and revoked
through the service's own transaction, so the status list it serves is real.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from issuer.sources import BRP_VCT, SOURCES, with_derived_claims
from regie_protocol.errors import Code, Refused, Unavailable
from regie_protocol.keys import Alg, PublicKey, SigningKey
from regie_protocol.statuslist import Status
from tests.issuer.service_harness import ISSUER_ID, Harness, start
from wallet.core import UnlockedWallet, create_wallet, unlock_wallet
from wallet.storage import Database
from wallet.vault import KdfFloor, KdfParams, VaultPassphrase

PASSPHRASE = "kat boom huis fiets"
BRP_SAMPLE: Mapping[str, Any] = SOURCES["brp"].sample

__all__ = [
    "BRP_SAMPLE",
    "BRP_VCT",
    "ISSUER_ID",
    "PASSPHRASE",
    "AsgiFetcher",
    "IssuerWorld",
    "OfflineFetcher",
    "new_wallet",
    "start_issuer",
]


@dataclass
class AsgiFetcher:
    """Serves GETs from an in-process ASGI app (any host), like a fetcher over the network."""

    app: FastAPI
    fetched: list[str] = field(default_factory=list)

    def get(self, url: str, *, accept: str, max_bytes: int) -> bytes:
        self.fetched.append(url)

        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport) as client:
                return await client.get(url, headers={"Accept": accept})

        response = asyncio.run(go())
        if response.status_code != 200:
            raise Unavailable(f"{url} answered HTTP {response.status_code}")
        if len(response.content) > max_bytes:
            raise Refused("too large", code=Code.SIZE_EXCEEDED)
        return response.content


class OfflineFetcher:
    """No network at all."""

    def get(self, url: str, *, accept: str, max_bytes: int) -> bytes:
        raise Unavailable(f"cannot reach {url} (offline)")


@dataclass
class IssuerWorld:
    """The BRP issuer service, its key and clock."""

    harness: Harness

    @property
    def app(self) -> FastAPI:
        return self.harness.app

    @property
    def key(self) -> SigningKey:
        return self.harness.issuer_key

    def jwks(self) -> dict[str, Any]:
        return self.harness.app.state.issuer.read().jwks()  # type: ignore[no-any-return]

    def issue(
        self,
        holder: PublicKey,
        *,
        now: int,
        claims: Mapping[str, Any] | None = None,
    ) -> tuple[str, int]:
        """A BRP credential for ``holder`` issued at ``now``: ``(token, status index)``."""
        with self.harness.app.state.issuer.transaction() as issuer:
            today = dt.datetime.fromtimestamp(now, dt.UTC).date()
            full = with_derived_claims(BRP_VCT, claims or BRP_SAMPLE, today)
            issued = issuer.issue(vct=BRP_VCT, claims=full, holder=holder, now=now)
        return issued.token, issued.status_index

    def set_status(self, index: int, status: Status) -> None:
        with self.harness.app.state.issuer.transaction() as issuer:
            issuer.set_status(index, status)


def start_issuer(tmp_path: Path, *, now: int) -> IssuerWorld:
    home = tmp_path / "issuer"
    home.mkdir(exist_ok=True)
    harness = start(home, SigningKey.generate(Alg.ES256))
    harness.clock.now = now
    return IssuerWorld(harness)


def new_wallet(db: Database, *, now: int) -> UnlockedWallet:
    passphrase = VaultPassphrase(PASSPHRASE)
    create_wallet(db, passphrase, now=now, kdf=KdfParams.unsafe_fast_for_tests())
    return unlock_wallet(db, passphrase, floor=KdfFloor.unsafe_accept_test_params())
