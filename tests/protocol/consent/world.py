"""A consent-token world for tests: a holder with pairwise keys, two verifiers, a good token."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from regie_protocol.consent import (
    CONSENT_TYP,
    AuthorizationDetail,
    ConsentClaims,
    LocalizedText,
    NoticeRef,
    RequestRef,
    StatusRef,
    consent_request_hash,
    notice_hash,
)
from regie_protocol.keys import Alg, SigningKey
from tests.conftest import NOW
from tests.protocol.jws_forge import forge

VERIFIER_A = "https://gemeente.example/rp/parkeervergunning"
VERIFIER_B = "https://bank.example/rp/hypotheek"
VCT_PERSON = "https://credentials.example/vct/person"
VCT_INCOME = "https://credentials.example/vct/income"
SERVICE_PROVISION = "https://w3id.org/dpv#ServiceProvision"
PUBLIC_TASK = "https://w3id.org/dpv/legal/eu/gdpr#A6-1-e"
CONSENT = "https://w3id.org/dpv#Consent"
STATUS_URI = "https://wallet.example/status/3"
REQUEST_JWT = "eyJhbGciOiJFZERTQSJ9.eyJqdGkiOiJyZXEtMSJ9.c2ln"
NOTICE = b"U geeft de gemeente uw adres voor de parkeervergunning."


@dataclass(frozen=True)
class World:
    """The holder's pairwise keys for verifiers A and B, and A's DPoP key."""

    holder_a: SigningKey
    holder_b: SigningKey
    verifier_a: SigningKey

    @property
    def keys_of_a(self) -> dict[str, Any]:
        """What verifier A has registered: only the holder's key for A."""
        return {self.holder_a.public_key.thumbprint_uri(): self.holder_a.public_key}


def make_world(alg: Alg = Alg.EDDSA) -> World:
    return World(
        holder_a=SigningKey.generate(alg),
        holder_b=SigningKey.generate(alg),
        verifier_a=SigningKey.generate(Alg.ES256),
    )


def good_claims(world: World, *, now: int = NOW) -> ConsentClaims:
    return ConsentClaims(
        jti="consent-0001",
        iss=world.holder_a.public_key.thumbprint_uri(),
        aud=VERIFIER_A,
        iat=now - 10,
        nbf=now - 10,
        exp=now + 90 * 86400,
        request=RequestRef(id="req-1", sha256=consent_request_hash(REQUEST_JWT)),
        notice=NoticeRef(
            uri="https://gemeente.example/notice/7", sha256=notice_hash(NOTICE), lang="nl"
        ),
        status=StatusRef(idx=42, uri=STATUS_URI),
        cnf_jkt=world.verifier_a.public_key.thumbprint(),
        authorization_details=(
            AuthorizationDetail(
                credential_types=(VCT_PERSON,),
                claims=("address.locality", "age_over_18"),
                actions=("present", "store"),
                purpose=SERVICE_PROVISION,
                purpose_text=LocalizedText(nl="Parkeervergunning", en="Parking permit"),
                legal_basis=PUBLIC_TASK,
                processing_activity="https://gemeente.example/register/parkeren",
                retention="P1Y",
                recipients=(),
                max_uses=3,
                frequency="P1D",
            ),
            AuthorizationDetail(
                credential_types=(VCT_INCOME,),
                claims=("income",),
                actions=("present",),
                purpose=SERVICE_PROVISION,
                purpose_text=LocalizedText(nl="Inkomenstoets", en="Income check"),
                legal_basis=CONSENT,
                processing_activity="https://gemeente.example/register/parkeren",
                retention="P0D",
            ),
        ),
    )


def header_for(key: SigningKey, **changes: Any) -> dict[str, Any]:
    header: dict[str, Any] = {"alg": key.alg.value, "typ": CONSENT_TYP, "kid": key.kid}
    header.update(changes)
    return header


def resign(payload: dict[str, Any], key: SigningKey, header: dict[str, Any] | None = None) -> str:
    """Sign any payload as a consent token would be signed (bypassing sign_consent's checks)."""
    return forge(header if header is not None else header_for(key), payload, key=key)


def payload_of(world: World) -> dict[str, Any]:
    return copy.deepcopy(good_claims(world).to_json())


__all__ = [
    "CONSENT",
    "NOTICE",
    "PUBLIC_TASK",
    "REQUEST_JWT",
    "SERVICE_PROVISION",
    "STATUS_URI",
    "VCT_INCOME",
    "VCT_PERSON",
    "VERIFIER_A",
    "VERIFIER_B",
    "World",
    "good_claims",
    "header_for",
    "make_world",
    "payload_of",
    "resign",
]
