"""A wallet that answered verifiers' requests, its host's rows, and reads made as the host does.

Built on :mod:`tests.wallet.requests.helpers` (real credentials, a registry
whose verifiers can decrypt, signed requests accepted as the host accepts
them). :func:`read` is the host's read (:func:`wallet.host.reads.prepare_read`
and :func:`~wallet.host.reads.read_release`) with a real DPoP proof.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from regie_protocol.dpop import create_proof
from regie_protocol.keys import SigningKey
from tests.wallet.requests.helpers import HOST_URL, World, make_world
from wallet import requests
from wallet.core import UnlockedWallet
from wallet.host.caches import CheckCaches
from wallet.host.reads import DATA_PATH, LEEWAY, Released, prepare_read, read_release
from wallet.inbox import StoredRequest
from wallet.releases import RELEASE_SOURCE_KIND
from wallet.storage import Consent, ConsentRequest, Database, Release


@dataclass
class Answered:
    """A world whose wallet approved one request, refused one and has one pending."""

    world: World
    approved: requests.Approved
    approved_request: StoredRequest
    refused_request: StoredRequest
    pending_request: StoredRequest

    @property
    def token(self) -> str:
        return self.approved.consent.token

    @property
    def key(self) -> SigningKey:
        """The verifier's signing key: the request's, the consent's cnf.jkt, the DPoP key."""
        return self.world.verifier.signing


def answered_world(db: Database, *, now: int) -> Answered:
    world = make_world(db, now=now)
    approved_request = world.send()
    approved = requests.approve(
        world.wallet, approved_request.id, registry=world.registry, now=now, host_url=HOST_URL
    )
    refused_request = world.send()
    requests.refuse(world.wallet, refused_request.id, now=now)
    pending_request = world.send(attributes=("age_over_65",), optional_attributes=())
    return Answered(world, approved, approved_request, refused_request, pending_request)


def read(db: Database, token: str, key: SigningKey, *, now: int) -> Released:
    """POST /v1/data as the host runs it: a fresh DPoP proof, one transaction."""
    proof = create_proof(key, htm="POST", htu=HOST_URL + DATA_PATH, now=now, access_token=token)
    attempt = prepare_read(token, proof, attributes=None, host_url=HOST_URL, now=now)
    return read_release(db, attempt, now=now, caches=CheckCaches(leeway=LEEWAY))


def host_contents(db: Database) -> dict[str, Any]:
    """What the host serves from, without owners: releases, requests, consents' host columns."""
    releases = sorted(
        (r["consent_id"], r["jwe"], r["attributes"], r["recipient_kid"], r["sealed_at"])
        for r in db.fetch_all(select(Release))
    )
    asked = sorted(
        (
            r["id"],
            r["verifier_id"],
            r["request_jti"],
            r["token"],
            r["state"],
            r["received_at"],
            r["expires_at"],
            r["answered_at"],
            r["consent_id"],
        )
        for r in db.fetch_all(select(ConsentRequest))
    )
    consents = sorted(
        (r["id"], r["holder_jwk"], r["uses"], r["last_used_at"])
        for r in db.fetch_all(select(Consent))
    )
    return {"releases": releases, "requests": asked, "consents": consents}


def release_sources(wallet: UnlockedWallet) -> list[tuple[str | None, dict[str, Any]]]:
    """Which credentials each release was made from: ``(consent id, payload)``, sorted."""
    return sorted(
        ((r.ref, dict(r.payload)) for r in wallet.find(RELEASE_SOURCE_KIND)),
        key=lambda item: str(item[0]),
    )


__all__ = [
    "Answered",
    "answered_world",
    "host_contents",
    "read",
    "release_sources",
]
