"""A verifier's world for offline tests: a holder, a wallet host's status list, a good consent.

The status "server" signs real Token Status Lists with the host's real key on
every fetch (no network: the verifier's ``fetch`` callable is handed the
server's method). Times are explicit integers, moved by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from regie_protocol.consent import (
    AuthorizationDetail,
    ConsentClaims,
    LocalizedText,
    NoticeRef,
    RequestRef,
    StatusRef,
    consent_request_hash,
    notice_hash,
    sign_consent,
)
from regie_protocol.errors import Unavailable
from regie_protocol.keys import Alg, PublicKey, SigningKey
from regie_protocol.statuslist import Status, StatusList, sign_status_list
from tests.conftest import NOW
from verifier.policy import ConsentPolicy
from verifier.status_cache import StatusListCache

HOST = "https://wallet.example"
OTHER_HOST = "https://other-wallet.example"
STATUS_URI = HOST + "/v1/status-lists/consents-1"
VERIFIER = "https://gemeente.example/parkeren"
OTHER_VERIFIER = "https://bank.example/hypotheek"
VCT_PERSON = "https://credentials.example/vct/person"
SERVICE_PROVISION = "https://w3id.org/dpv#ServiceProvision"
MARKETING = "https://w3id.org/dpv#Marketing"
PUBLIC_TASK = "https://w3id.org/dpv/legal/eu/gdpr#A6-1-e"
REQUEST_JWT = "eyJhbGciOiJFZERTQSJ9.eyJqdGkiOiJyZXEtMSJ9.c2ln"
IDX = 7


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: int = NOW) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


@dataclass
class StatusServer:
    """Signed status lists by URI, as a host or an issuer serves them; counts fetches."""

    clock: Clock
    keys: dict[str, SigningKey] = field(default_factory=dict)
    lists: dict[str, StatusList] = field(default_factory=dict)
    ttl: int | None = 300
    exp_in: int | None = None
    down: bool = False
    fetches: list[str] = field(default_factory=list)
    #: a fixed token to answer with instead of signing afresh (a replayed old list)
    replay: dict[str, str] = field(default_factory=dict)

    def add(self, uri: str, key: SigningKey, size: int = 64) -> None:
        self.keys[uri] = key
        self.lists[uri] = StatusList(2, size)

    def set(self, uri: str, idx: int, status: Status) -> None:
        self.lists[uri].set(idx, int(status))

    def token(self, uri: str, *, iat: int | None = None) -> str:
        iat = self.clock() if iat is None else iat
        exp = None if self.exp_in is None else iat + self.exp_in
        return sign_status_list(
            self.lists[uri], key=self.keys[uri], uri=uri, iat=iat, exp=exp, ttl=self.ttl
        )

    def fetch(self, uri: str) -> bytes:
        self.fetches.append(uri)
        if self.down or uri not in self.lists:
            raise Unavailable(f"{uri} is down")
        if uri in self.replay:
            return self.replay[uri].encode()
        return self.token(uri).encode()


@dataclass
class World:
    clock: Clock
    holder: SigningKey
    other_holder: SigningKey
    verifier_key: SigningKey
    host_key: SigningKey
    server: StatusServer

    @property
    def holder_keys(self) -> dict[str, PublicKey]:
        return {self.holder.public_key.thumbprint_uri(): self.holder.public_key}

    def policy(self, **changes: Any) -> ConsentPolicy:
        policy = ConsentPolicy(
            audience=VERIFIER,
            attributes=frozenset({"address"}),
            purpose=SERVICE_PROVISION,
            trusted_hosts={HOST: {self.host_key.kid: self.host_key.public_key}},
            trusted_issuers={},
            holder_keys=self.holder_keys,
            clock=self.clock,
            leeway=30,
        )
        return replace(policy, **changes)

    def cache(self, policy: ConsentPolicy | None = None, **options: Any) -> StatusListCache:
        keys_for: Callable[[str], Any] = (policy or self.policy()).status_list_keys
        return StatusListCache(
            fetch=self.server.fetch, keys_for=keys_for, clock=self.clock, **options
        )

    def claims(self, **changes: Any) -> ConsentClaims:
        now = self.clock()
        claims = ConsentClaims(
            jti="consent-0001",
            iss=self.holder.public_key.thumbprint_uri(),
            aud=VERIFIER,
            iat=now - 10,
            nbf=now - 10,
            exp=now + 90 * 86400,
            request=RequestRef(id="req-1", sha256=consent_request_hash(REQUEST_JWT)),
            notice=NoticeRef(
                uri="https://gemeente.example/notice/7",
                sha256=notice_hash(b"U geeft de gemeente uw adres."),
                lang="nl",
            ),
            status=StatusRef(idx=IDX, uri=STATUS_URI),
            cnf_jkt=self.verifier_key.public_key.thumbprint(),
            authorization_details=(detail(),),
        )
        return replace(claims, **changes)

    def token(self, *, key: SigningKey | None = None, **changes: Any) -> str:
        return sign_consent(self.claims(**changes), holder_key=key or self.holder)


def detail(**changes: Any) -> AuthorizationDetail:
    base = AuthorizationDetail(
        credential_types=(VCT_PERSON,),
        claims=("address",),
        actions=("present", "store"),
        purpose=SERVICE_PROVISION,
        purpose_text=LocalizedText(nl="Parkeervergunning", en="Parking permit"),
        legal_basis=PUBLIC_TASK,
        processing_activity="https://gemeente.example/register/parkeren",
        retention="P30D",
        recipients=(),
    )
    return replace(base, **changes)


def make_world(alg: Alg = Alg.EDDSA) -> World:
    clock = Clock()
    host_key = SigningKey.generate(Alg.EDDSA)
    server = StatusServer(clock)
    server.add(STATUS_URI, host_key)
    return World(
        clock=clock,
        holder=SigningKey.generate(alg),
        other_holder=SigningKey.generate(alg),
        verifier_key=SigningKey.generate(Alg.ES256),
        host_key=host_key,
        server=server,
    )


__all__ = [
    "HOST",
    "IDX",
    "MARKETING",
    "OTHER_HOST",
    "OTHER_VERIFIER",
    "PUBLIC_TASK",
    "SERVICE_PROVISION",
    "STATUS_URI",
    "VCT_PERSON",
    "VERIFIER",
    "Clock",
    "StatusServer",
    "World",
    "detail",
    "make_world",
]
