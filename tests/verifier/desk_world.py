"""The parking desk for tests: its own home (identity, trust, store) over the host world."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi import FastAPI

from tests.verifier.asgi import asgi_client
from tests.verifier.host_world import BRP, HOST_URL, HostWorld, host_world
from tests.wallet.databases import Target
from verifier.context import VerifierContext
from verifier.example_service import create_app
from verifier.identity import save_identity
from verifier.settings import VerifierSettings
from verifier.trust import Trust, save_trust

DESK_URL = "http://127.0.0.1:8003"


@dataclass
class Desk:
    world: HostWorld
    context: VerifierContext
    app: FastAPI
    http: httpx.Client

    def collect(self, **changes: object) -> str:
        """Ask the citizen (through the desk's context), approve, collect into its store."""
        request_id = self.context.submit_request(self.world.request_claims(**changes))
        self.world.approve(request_id)
        consent = self.context.collect(request_id).consent
        assert consent is not None
        return consent.token

    def apply(self, token: str | None, plate: str = "XX-123-Y") -> httpx.Response:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        return self.http.post("/v1/parking-permits", json={"licensePlate": plate}, headers=headers)


@contextmanager
def desk_world(tmp_path: Path, *, database_url: str | None = None) -> Iterator[Desk]:
    """The desk over a SQLite host world; its store in its home, or at ``database_url``."""
    with host_world(Target("sqlite", None, tmp_path), tmp_path) as world:
        settings = VerifierSettings(
            home=tmp_path / "desk", base_url=DESK_URL, database_url=database_url
        )
        save_identity(world.identity, settings.identity_file)
        save_trust(
            Trust({HOST_URL: world.host_keys}, {BRP.issuer_id: world.issuer.public_keys()}),
            settings.trust_file,
        )
        context = VerifierContext.open(settings, clock=world.clock, http=world.http)
        app = create_app(settings, context=context)
        try:
            yield Desk(world, context, app, asgi_client(app, DESK_URL))
        finally:
            context.store.close()


__all__ = ["DESK_URL", "Desk", "desk_world"]
