"""A real wallet with one approved consent, for the read and verify benches (no test helpers).

:func:`approved_consent` builds, on an open :class:`~wallet.storage.Database`:

* a wallet (unsafe-fast KDF: the bench measures reads, not unlocking) holding a
  BRP credential issued by :class:`issuer.Issuer` to a holder key in the wallet;
* a verifier registry signed by a registrar, with one verifier (an Ed25519
  signing key and an X25519 encryption key), stored as the owner's registry;
* the verifier's signed consent request, accepted into the inbox
  (:func:`wallet.inbox.accept_request`, what ``POST /v1/requests`` runs),
  approved by the citizen (:func:`wallet.requests.approve`: consent granted and
  release sealed in one transaction) and collected
  (:func:`wallet.inbox.answer_for`, what ``GET /v1/requests/{id}`` answers).

No ``max_uses`` and no ``frequency``: every read of the bench is allowed and counted.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from issuer import CREDENTIAL_TYPES, SOURCES, Issuer, new_state, with_derived_claims
from regie_protocol import sdjwt, vocab
from regie_protocol.consent_request import ConsentRequestClaims, sign_request
from regie_protocol.keys import Alg, EncryptionKey, SigningKey, Unprotected
from regie_protocol.registry import RegisteredVerifier, Registry
from wallet.consent_terms import GDPR_CONSENT
from wallet.core import UnlockedWallet, create_wallet, unlock_wallet
from wallet.inbox import accept_request, answer_for
from wallet.registry_store import add_registry
from wallet.requests import approve
from wallet.storage import Database
from wallet.storage.models import metadata
from wallet.vault import KdfFloor, KdfParams, VaultPassphrase

REGISTRAR = "https://registrar.regie.example"
VERIFIER = "https://parkeren.utrecht.example"
SERVICE = vocab.DPV + "ServiceProvision"
PASSPHRASE = "kat boom huis fiets"
DAY = 86400
_CONSENT = metadata.tables["consent"]


@dataclass(frozen=True)
class BenchConsent:
    """An approved consent as the verifier holds it, and what is needed to check reads."""

    consent_id: str
    token: str
    #: the verifier's request signing key: cnf.jkt, so the DPoP key of every read
    verifier_key: SigningKey
    verifier_enc: EncryptionKey
    verifier_id: str
    host_url: str
    #: the holder's (pairwise) public JWK that signed the token, as the host stores it
    holder_jwk: str


def new_wallet(db: Database, *, now: int) -> UnlockedWallet:
    passphrase = VaultPassphrase(PASSPHRASE)
    create_wallet(db, passphrase, now=now, kdf=KdfParams.unsafe_fast_for_tests())
    return unlock_wallet(db, passphrase, floor=KdfFloor.unsafe_accept_test_params())


def issue_brp(wallet: UnlockedWallet, *, now: int) -> None:
    """A BRP credential (sample person) to a new holder key kept in ``wallet``."""
    holder = SigningKey.generate(Alg.EDDSA)
    jwk = json.loads(holder.export_private_jwk(protection=Unprotected()))
    wallet.put("holder_key", {"jwk": jwk, "alg": holder.alg.value}, now=now, ref=holder.kid)
    source = SOURCES["brp"]
    issuer = Issuer(new_state(source.issuer_id), SigningKey.generate(Alg.ES256), CREDENTIAL_TYPES)
    vct = source.ctype.vct
    today = dt.datetime.fromtimestamp(now, dt.UTC).date()
    issued = issuer.issue(
        vct=vct,
        claims=with_derived_claims(vct, source.sample, today),
        holder=holder.public_key,
        now=now,
    )
    verified = sdjwt.verify(
        issued.token,
        issuer_keys={source.issuer_id: issuer.public_keys()},
        key_binding=sdjwt.NoKeyBinding(),
        status=sdjwt.UNSAFE_SKIP_STATUS,
        now=now,
        accepted_vcts=None,
    )
    status = {"uri": verified.status[0], "idx": verified.status[1]} if verified.status else None
    wallet.put(
        "credential",
        {
            "sd_jwt": issued.token,
            "issuer": verified.issuer,
            "vct": verified.vct,
            "holder_kid": holder.kid,
            "claims": verified.claims,
            "expires_at": issued.expires_at,
            "status": status,
            "received_at": now,
        },
        now=now,
    )


def approved_consent(db: Database, *, host_url: str, now: int) -> BenchConsent:
    """A wallet on ``db`` with one consent approved for the bench verifier; see the module."""
    wallet = new_wallet(db, now=now)
    issue_brp(wallet, now=now)
    key, enc = SigningKey.generate(Alg.EDDSA), EncryptionKey.generate()
    registrar = SigningKey.generate(Alg.EDDSA)
    registry = Registry.new(REGISTRAR, now=now).with_verifier(
        RegisteredVerifier(
            id=VERIFIER,
            name="Gemeente Utrecht — Parkeren",
            signing_keys=(key.public_key,),
            attributes=frozenset({"address", "given_name"}),
            purposes=frozenset({SERVICE}),
            encryption_keys=(enc.public_key,),
        ),
        now=now,
    )
    add_registry(
        wallet, registry.sign(registrar), now=now, registrar_jwk=registrar.public_key.to_jwk()
    )
    request = sign_request(
        ConsentRequestClaims(
            iss=VERIFIER,
            aud=host_url,
            jti=f"bench-{secrets.token_hex(6)}",
            iat=now,
            exp=now + DAY,
            inbox=wallet.owner,
            attributes=("address",),
            purpose=SERVICE,
            legal_basis=GDPR_CONSENT,
            valid_for=30 * DAY,
            optional_attributes=("given_name",),
        ),
        key=key,
    )
    stored = accept_request(db, request, host_url=host_url, now=now)
    approved = approve(wallet, stored.id, registry=registry, now=now, host_url=host_url)
    answer = answer_for(db, stored.id, jkt=key.public_key.thumbprint(), now=now)
    if answer is None or answer.consent_token is None:
        raise RuntimeError("the approved request has no consent token to collect")
    holder_jwk = db.fetch_all(
        select(_CONSENT.c.holder_jwk).where(_CONSENT.c.id == approved.consent.id)
    )[0]["holder_jwk"]
    return BenchConsent(
        consent_id=approved.consent.id,
        token=answer.consent_token,
        verifier_key=key,
        verifier_enc=enc,
        verifier_id=VERIFIER,
        host_url=host_url,
        holder_jwk=str(holder_jwk),
    )


def uses(db: Database, consent_id: str) -> int:
    """The consent's recorded use count, as committed."""
    rows = db.fetch_all(select(_CONSENT.c.uses).where(_CONSENT.c.id == consent_id))
    return int(rows[0]["uses"])


__all__ = ["VERIFIER", "BenchConsent", "approved_consent", "issue_brp", "new_wallet", "uses"]
