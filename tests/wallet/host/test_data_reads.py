"""``POST /v1/data`` that succeeds: what is recorded, idempotent retries, parallel reads.

On SQLite and PostgreSQL. A read's use count, time, attributes and DPoP key
are written in the transaction that releases the data; a retry with the same
``Idempotency-Key`` gets the same answer without a second use, but not after
a revocation; parallel reads never exceed ``max_uses``.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import select

from regie_protocol import sdjwt
from regie_protocol.http import PROBLEM_TYPE_BASE
from regie_protocol.release import decrypt_release
from wallet import consents
from wallet.storage import Consent, ConsentEvent, DpopProof

from .world import NOW, VERIFIER_A, World


def _consent_row(w: World, consent_id: str) -> dict[str, object]:
    rows = w.db.fetch_all(select(Consent).where(Consent.id == consent_id))  # type: ignore[arg-type]
    return dict(rows[0])


def _used_events(w: World, consent_id: str) -> list[dict[str, Any]]:
    rows = w.db.fetch_all(
        select(ConsentEvent)
        .where(ConsentEvent.consent_id == consent_id, ConsentEvent.name == "consent.used")  # type: ignore[arg-type]
        .order_by(ConsentEvent.id)  # type: ignore[arg-type]
    )
    return [json.loads(str(row["detail"])) for row in rows]


def test_a_read_is_recorded_with_the_release_it_gives(world: World) -> None:
    granted = world.consent()
    world.clock.now = NOW + 120
    response = world.read(granted.token, body={"attributes": ["address"]})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    row = _consent_row(world, granted.id)
    assert (row["uses"], row["last_used_at"]) == (1, NOW + 120)
    jkt = world.a.key.public_key.thumbprint()
    assert _used_events(world, granted.id) == [
        {"use": 1, "attributes": ["address", "given_name"], "jkt": jkt}
    ]
    proofs = world.db.fetch_all(select(DpopProof).where(DpopProof.jkt == jkt))  # type: ignore[arg-type]
    # the read's proof is kept; the one that collected the answer was purged (window closed)
    assert [int(p["expires_at"]) > NOW + 120 for p in proofs] == [True]
    content = decrypt_release(body["release"], keys=world.a.enc)
    assert content.consent_id == granted.id
    (presentation,) = content.presentations
    assert presentation.count("~") >= 2  # SD-JWT with disclosures and a key binding JWT
    assert sdjwt.parse(presentation).key_binding_jwt is not None


def test_reads_count_up_and_the_release_stays_sealed_to_the_verifier(world: World) -> None:
    granted = world.consent()
    uses = [world.read(granted.token).json()["use"] for _ in range(3)]
    assert uses == [1, 2, 3]
    assert [e["use"] for e in _used_events(world, granted.id)] == [1, 2, 3]


def test_a_read_after_revocation_is_refused_even_with_warm_caches(world: World) -> None:
    granted = world.consent()
    assert world.read(granted.token).status_code == 200
    consents.revoke(world.wallet, granted.id, now=world.clock.now)
    refused = world.read(granted.token)
    assert refused.status_code == 403
    assert refused.json()["type"] == PROBLEM_TYPE_BASE + "consent_ended"
    assert _consent_row(world, granted.id)["uses"] == 1


def test_an_idempotent_retry_gets_the_same_answer_without_a_second_use(world: World) -> None:
    granted = world.consent()
    key = {"Idempotency-Key": "read-7f3a"}
    first = world.read(granted.token, headers=key, body={"attributes": ["address"]})
    again = world.read(granted.token, headers=key, body={"attributes": ["address"]})
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert _consent_row(world, granted.id)["uses"] == 1
    other = world.read(granted.token, headers=key, body={"attributes": ["given_name"]})
    assert other.status_code == 422
    assert other.json()["type"] == PROBLEM_TYPE_BASE + "idempotency_conflict"
    fresh = world.read(granted.token, headers={"Idempotency-Key": "read-7f3b"})
    assert fresh.json()["use"] == 2
    consents.revoke(world.wallet, granted.id, now=world.clock.now)
    after = world.read(granted.token, headers=key, body={"attributes": ["address"]})
    assert after.status_code == 403  # a revocation beats a stored answer


def test_a_malformed_idempotency_key_is_refused(world: World) -> None:
    granted = world.consent()
    response = world.read(granted.token, headers={"Idempotency-Key": 'bad "key"'})
    assert response.status_code == 400
    assert response.json()["type"] == PROBLEM_TYPE_BASE + "malformed"


def test_parallel_reads_never_pass_max_uses(world: World) -> None:
    granted = world.consent(max_uses=5)
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda _: world.read(granted.token).status_code, range(16)))
    assert statuses.count(200) == 5
    assert statuses.count(403) == 11
    assert _consent_row(world, granted.id)["uses"] == 5
    assert sorted(e["use"] for e in _used_events(world, granted.id)) == [1, 2, 3, 4, 5]


def test_the_consent_names_the_verifier_it_was_read_for(world: World) -> None:
    granted = world.consent()
    assert world.read(granted.token).status_code == 200
    assert _consent_row(world, granted.id)["verifier_id"] == VERIFIER_A
