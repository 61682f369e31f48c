"""``regie demo``, the asking: the desk sends a consent request, Anna answers, the desk collects.

Every call goes to the wallet host's real ASGI app (``POST /v1/requests``,
``GET /v1/requests/{id}`` with DPoP) through the desk's own
:class:`~verifier.client.WalletHostClient`; the story shows each call and,
for a refusal, the problem's ``type`` as the host answered it.
"""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from regie_protocol.consent_request import ConsentRequestClaims
from regie_protocol.errors import RegieError
from regie_protocol.http import PROBLEM_TYPE_BASE
from regie_protocol.keys import PublicKey
from regie_protocol.registry import Registry
from verifier.verify import VerifiedConsentToken
from wallet.consent_terms import GDPR_CONSENT
from wallet.core import UnlockedWallet
from wallet.request_text import describe
from wallet.requests import approve, pending_requests

from .demo_net import DemoClock, InProcessNetwork
from .demo_story import Story
from .demo_world import DAY, HOST_URL, PERMIT_TEXT, SERVICE, Brp, Desk

REQUESTS_URL = HOST_URL + "/v1/requests"


@dataclass
class Scene:
    """Everyone on stage once Anna holds her credential and the desk is registered."""

    story: Story
    net: InProcessNetwork
    clock: DemoClock
    brp: Brp
    wallet: UnlockedWallet
    holder: PublicKey
    registry: Registry
    desk: Desk
    #: Anna's wallet directory: her database, which the wallet host shares
    wallet_home: Path

    def database_bytes(self) -> bytes:
        """The wallet database's files as they are on disk now (for "is it readable?")."""
        files = sorted(self.wallet_home.glob("wallet.sqlite3*"))
        return b"".join(path.read_bytes() for path in files if path.is_file())


def problem_of(body: Any) -> dict[str, Any]:
    """A problem+json answer, for showing: its type named by its code, then the rest."""
    shown = dict(body) if isinstance(body, dict) else {}
    kind = shown.get("type")
    if isinstance(kind, str):
        shown["type"] = kind.removeprefix(PROBLEM_TYPE_BASE)
    return {k: shown[k] for k in ("type", "title", "status", "detail") if k in shown}


def _request(scene: Scene, **changes: Any) -> ConsentRequestClaims:
    now = scene.clock.now
    claims = ConsentRequestClaims(
        iss=scene.desk.identity.id,
        aud=HOST_URL,
        jti="permit-" + secrets.token_hex(6),
        iat=now,
        exp=now + 2 * DAY,
        inbox=scene.wallet.owner,
        attributes=("address",),
        purpose=SERVICE,
        legal_basis=GDPR_CONSENT,
        valid_for=365 * DAY,
        retention="P1Y",
        purpose_text=PERMIT_TEXT,
    )
    return dataclasses.replace(claims, **changes)


def ask(scene: Scene) -> tuple[str, ConsentRequestClaims]:
    """The desk's request (its host id and claims); the over-asking one, refused."""
    story, desk = scene.story, scene.desk
    claims = _request(scene)
    request_id = desk.context.submit_request(claims)
    story.say(
        "The parking desk asks Anna for her address",
        "Anna wants a parking permit. She gives the desk her inbox id at her wallet host: "
        f"{scene.wallet.owner}. The desk signs a request: her address, to give her the "
        "permit, for one year. It sends the request to her wallet host, which checks the "
        "signature against the registrar's list and keeps the request for Anna.",
    )
    story.http(scene.net.last("POST", REQUESTS_URL))
    story.show("The host's answer", scene.net.last("POST", REQUESTS_URL).json())

    greedy = _request(scene, attributes=("address", "birthdate"))
    try:
        desk.host().submit_request(greedy)
    except RegieError as exc:
        refused = f"Refused before Anna saw it: {exc.code.value}."
    else:  # pragma: no cover - the demo would be wrong
        raise SystemExit("a request beyond the registration was accepted")
    waiting = len(pending_requests(scene.wallet, now=scene.clock.now, registry=scene.registry))
    story.say(
        "The desk asks for more than it may",
        "A second request also asks for her birth date. The desk is registered for the "
        f"address only, so the wallet host refuses the request. {refused} "
        f"Requests waiting for Anna: {waiting}.",
    )
    refusal = scene.net.last("POST", REQUESTS_URL)
    story.http(refusal)
    story.show("The host's answer (RFC 9457 problem)", problem_of(refusal.json()))
    return request_id, claims


def answer(scene: Scene, request_id: str) -> str:
    """Anna reads the request and approves it; the consent id."""
    story, now = scene.story, scene.clock.now
    (view,) = [
        v
        for v in pending_requests(scene.wallet, now=now, registry=scene.registry)
        if v.id == request_id
    ]
    story.say(
        "Anna reads the request",
        "Her wallet shows who asks, for what, why and for how long, in English and Dutch. "
        "The request that asked too much is not there.",
    )
    rows = [*describe(view), ("Withdraw", "you can take your consent back at any time")]
    story.pairs("Request from the parking desk", rows)
    approved = approve(
        scene.wallet, request_id, registry=scene.registry, now=now, host_url=HOST_URL
    )
    story.say(
        "Anna says yes",
        "Her wallet signs a consent with a key it uses for this desk only, so two services "
        "cannot link her by it. In the same step it seals her data for the desk: it shows "
        "only her address and encrypts it to the desk's key. Her wallet host can hand this "
        "out later without her passphrase, and cannot read it. "
        f"Consent id: {approved.consent.id}",
    )
    return approved.consent.id


def collect(scene: Scene, request_id: str, claims: ConsentRequestClaims) -> VerifiedConsentToken:
    """The desk collects the consent with DPoP, checks it and keeps it."""
    story, desk = scene.story, scene.desk
    consent = desk.context.collect(request_id).consent
    if consent is None:  # pragma: no cover - the demo would be wrong
        raise SystemExit("the approved request gave the desk no consent")
    story.say(
        "The desk collects Anna's consent",
        "The desk asks the host for the answer with a DPoP proof: a short token signed by "
        "the key that signed the request. Nobody else can collect it. The desk checks "
        "Anna's signature, that the consent is for this desk and answers this request "
        f"(request id {claims.jti} in the token below), and the consent's status list at "
        "her wallet host. Then it keeps the consent in its store.",
    )
    story.http(scene.net.last("GET", f"{REQUESTS_URL}/{request_id}"))
    story.show("Consent token (signed claims)", consent.claims.to_json())
    return consent


__all__ = ["Scene", "answer", "ask", "collect", "problem_of"]
