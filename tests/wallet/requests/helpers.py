"""A wallet with real credentials, a registry whose verifiers can encrypt, and signed requests.

Credentials come from real :class:`issuer.Issuer` instances (kept, so a test
can issue a newer one, e.g. after a move); the registry is signed by a real
registrar key; requests are signed by the verifiers' registered keys with
:func:`regie_protocol.consent_request.sign_request` and accepted through
:func:`wallet.inbox.accept_request`, as the wallet host does.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from issuer import CREDENTIAL_TYPES, SOURCES, Issuer, new_state, with_derived_claims
from regie_protocol import vocab
from regie_protocol.consent_request import ConsentRequestClaims, sign_request
from regie_protocol.keys import Alg, EncryptionKey, PublicKey, SigningKey, Unprotected
from regie_protocol.registry import RegisteredVerifier, Registry
from regie_protocol.release import ReleaseContent, decrypt_release
from tests.wallet.consents.helpers import (
    AGE,
    HOST_URL,
    OTHER_VERIFIER,
    PASSPHRASE,
    REGISTRAR,
    SERVICE,
    VERIFIER,
    new_wallet,
    store_issued,
)
from wallet import consents
from wallet.core import UnlockedWallet, create_wallet, unlock_wallet
from wallet.inbox import StoredRequest, accept_request
from wallet.registry_store import add_registry
from wallet.storage import Database
from wallet.vault import KdfFloor, KdfParams, VaultPassphrase

DAY = 86400
GOV_TASK = vocab.GDPR + "A6-1-e"
CONSENT_BASIS = vocab.GDPR + "A6-1-a"


@dataclass
class VerifierKeys:
    id: str
    name: str
    signing: SigningKey
    encryption: EncryptionKey


@dataclass
class World:
    """One wallet in ``db`` and the parties around it."""

    db: Database
    wallet: UnlockedWallet
    registry: Registry
    registrar: SigningKey
    verifier: VerifierKeys
    other: VerifierKeys
    issuers: dict[str, Issuer]
    holder: SigningKey
    now: int
    counter: list[int] = field(default_factory=lambda: [0])

    @property
    def owner(self) -> str:
        return self.wallet.owner

    def issuer_keys(self) -> dict[str, dict[str, PublicKey]]:
        return {i.issuer_id: i.public_keys() for i in self.issuers.values()}

    def claims(self, **changes: Any) -> ConsentRequestClaims:
        self.counter[0] += 1
        base = ConsentRequestClaims(
            iss=VERIFIER,
            aud=HOST_URL,
            jti=f"req-{self.counter[0]}",
            iat=self.now,
            exp=self.now + 2 * DAY,
            inbox=self.owner,
            attributes=("age_over_65", "address.locality"),
            optional_attributes=("given_name",),
            purpose=SERVICE,
            legal_basis=CONSENT_BASIS,
            valid_for=30 * DAY,
            retention="P90D",
            max_uses=5,
            frequency="P1D",
        )
        return dataclasses.replace(base, **changes)

    def token(self, *, key: SigningKey | None = None, **changes: Any) -> str:
        return sign_request(self.claims(**changes), key=key or self.verifier.signing)

    def send(self, token: str | None = None, **changes: Any) -> StoredRequest:
        return accept_request(
            self.db, token or self.token(**changes), host_url=HOST_URL, now=self.now
        )

    def store_credential(
        self, source: str, *, now: int, claims: Mapping[str, Any] | None = None
    ) -> str:
        """Issue ``source``'s sample (or ``claims``) to the holder key and store it; its record id.

        An older credential of the same type and issuer is deleted, as ``receive`` does.
        """
        issuer = self.issuers[source]
        vct = SOURCES[source].ctype.vct
        today = dt.datetime.fromtimestamp(now, dt.UTC).date()
        issued = issuer.issue(
            vct=vct,
            claims=with_derived_claims(vct, claims or SOURCES[source].sample, today),
            holder=self.holder.public_key,
            now=now,
        )
        older = [
            r.id
            for r in self.wallet.find("credential")
            if r.payload["vct"] == vct and r.payload["issuer"] == issuer.issuer_id
        ]
        record_id = store_issued(
            self.wallet,
            issued,
            issuer_keys=self.issuer_keys(),
            holder_kid=self.holder.kid,
            now=now,
        )
        self.wallet.delete(older)
        return record_id

    def grant_by_cli(self) -> consents.GrantedConsent:
        """A consent granted as ``regie consent grant`` does: no request, no release."""
        return consents.grant(
            self.wallet,
            consents.GrantTerms(
                verifier_id=VERIFIER, attributes=("age_over_18",), purpose=SERVICE, valid_for=DAY
            ),
            registry=self.registry,
            now=self.now,
            host_url=HOST_URL,
        )

    def open_release(self, jwe: str) -> ReleaseContent:
        return decrypt_release(jwe, keys=self.verifier.encryption)

    def second_wallet(self, *, with_registry: bool = True) -> UnlockedWallet:
        """Another citizen's wallet in the same database (with the same registry)."""
        owner = create_wallet(
            self.db,
            VaultPassphrase(PASSPHRASE),
            now=self.now,
            kdf=KdfParams.unsafe_fast_for_tests(),
        )
        wallet = unlock_wallet(
            self.db,
            VaultPassphrase(PASSPHRASE),
            floor=KdfFloor.unsafe_accept_test_params(),
            owner=owner,
        )
        if with_registry:
            add_registry(
                wallet,
                self.registry.sign(self.registrar),
                now=self.now,
                registrar_jwk=self.registrar.public_key.to_jwk(),
            )
        return wallet


def verifier_keys(verifier_id: str, name: str) -> VerifierKeys:
    return VerifierKeys(verifier_id, name, SigningKey.generate(Alg.ES256), EncryptionKey.generate())


def build_registry(
    now: int, registrar: SigningKey, *verifiers: tuple[VerifierKeys, frozenset[str]]
) -> Registry:
    registry = Registry.new(REGISTRAR, now=now)
    for keys, attributes in verifiers:
        registry = registry.with_verifier(
            RegisteredVerifier(
                id=keys.id,
                name=keys.name,
                signing_keys=(keys.signing.public_key,),
                encryption_keys=(keys.encryption.public_key,),
                attributes=attributes,
                purposes=frozenset({SERVICE, AGE}),
            ),
            now=now,
        )
    return registry


VERIFIER_ATTRIBUTES = frozenset(
    {"age_over_65", "age_over_18", "address", "given_name", "family_name", "income_by_year"}
    | {"nlqf_level"}
)


def make_world(db: Database, *, now: int, sources: tuple[str, ...] = ("brp", "diploma")) -> World:
    wallet = new_wallet(db, now=now)
    holder = SigningKey.generate(Alg.EDDSA)
    jwk = json.loads(holder.export_private_jwk(protection=Unprotected()))
    wallet.put("holder_key", {"jwk": jwk, "alg": holder.alg.value}, now=now, ref=holder.kid)
    issuers = {
        name: Issuer(
            new_state(SOURCES[name].issuer_id), SigningKey.generate(Alg.ES256), CREDENTIAL_TYPES
        )
        for name in ("brp", "diploma", "income")
    }
    registrar = SigningKey.generate(Alg.EDDSA)
    verifier = verifier_keys(VERIFIER, "Gemeente Utrecht — Ouderenpas")
    other = verifier_keys(OTHER_VERIFIER, "Gemeente Utrecht — Parkeren")
    registry = build_registry(
        now,
        registrar,
        (verifier, VERIFIER_ATTRIBUTES),
        (other, frozenset({"address.locality"})),
    )
    add_registry(
        wallet, registry.sign(registrar), now=now, registrar_jwk=registrar.public_key.to_jwk()
    )
    world = World(db, wallet, registry, registrar, verifier, other, issuers, holder, now)
    for source in sources:
        world.store_credential(source, now=now)
    return world


__all__ = [
    "CONSENT_BASIS",
    "DAY",
    "GOV_TASK",
    "HOST_URL",
    "OTHER_VERIFIER",
    "PASSPHRASE",
    "SERVICE",
    "VERIFIER",
    "VerifierKeys",
    "World",
    "build_registry",
    "make_world",
    "verifier_keys",
]
