"""The consents' status lists and the host's keys, as a verifier fetches and checks them."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import Connection, insert, select

from regie_protocol.http import PROBLEM_TYPE_BASE
from regie_protocol.keys import public_key_from_jwk
from regie_protocol.statuslist import Status, verify_status_list
from tests.wallet.databases import Target
from tests.wallet.storage.conftest import add_wallet
from wallet import consent_status, consents
from wallet.host.read_statements import fetch_read_row
from wallet.host.reads import _status
from wallet.host.status_tokens import EXP_TTLS
from wallet.storage import Consent, Database, StatusAllocation

from .world import HOST_URL, NOW, World

LIST_URI = HOST_URL + "/v1/status-lists/consents-1"


def _keys(w: World) -> dict[str, object]:
    response = w.client.get("/v1/keys")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=300"
    (jwk,) = response.json()["keys"]
    assert set(jwk) == {"kty", "crv", "x", "kid", "alg", "use"} and "d" not in jwk
    key = public_key_from_jwk({k: jwk[k] for k in ("kty", "crv", "x")})
    assert key.thumbprint() == jwk["kid"]
    return {jwk["kid"]: key}


def _index(w: World, consent_id: str) -> int:
    rows = w.db.fetch_all(select(Consent).where(Consent.id == consent_id))  # type: ignore[arg-type]
    return int(rows[0]["status_idx"])


def test_the_list_is_signed_by_the_host_key_with_ttl_and_cache_headers(
    sqlite_world: World,
) -> None:
    w = sqlite_world
    granted = w.consent()
    response = w.client.get("/v1/status-lists/consents-1")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/statuslist+jwt"
    ttl = w.settings.status_ttl
    assert response.headers["cache-control"] == f"max-age={ttl}"
    verified = verify_status_list(response.text, keys=_keys(w), uri=LIST_URI, now=NOW)  # type: ignore[arg-type]
    assert (verified.iat, verified.exp, verified.ttl) == (NOW, NOW + EXP_TTLS * ttl, ttl)
    assert verified.status(_index(w, granted.id)) is Status.VALID


def test_a_burst_reuses_one_signature_and_a_revocation_is_in_the_next_token(
    sqlite_world: World,
) -> None:
    w = sqlite_world
    granted = w.consent()
    tokens = {w.client.get("/v1/status-lists/consents-1").text for _ in range(5)}
    assert len(tokens) == 1
    consents.revoke(w.wallet, granted.id, now=NOW)  # the same second as the cached token
    after = w.client.get("/v1/status-lists/consents-1").text
    assert after not in tokens
    verified = verify_status_list(after, keys=_keys(w), uri=LIST_URI, now=NOW)  # type: ignore[arg-type]
    assert verified.status(_index(w, granted.id)) is Status.INVALID


def test_a_token_older_than_half_the_ttl_is_signed_again(sqlite_world: World) -> None:
    w = sqlite_world
    w.consent()
    first = w.client.get("/v1/status-lists/consents-1").text
    w.clock.now = NOW + w.settings.status_ttl // 2
    second = w.client.get("/v1/status-lists/consents-1").text
    assert second != first
    verified = verify_status_list(second, keys=_keys(w), uri=LIST_URI, now=w.clock.now)  # type: ignore[arg-type]
    assert verified.iat == w.clock.now


@pytest.mark.parametrize(
    ("path", "headers", "status", "kind"),
    [
        ("/v1/status-lists/consents-9", {}, 404, "not_found"),
        ("/v1/status-lists/Consents_1", {}, 400, "invalid_params"),
        ("/v1/status-lists/consents-1", {"Accept": "text/html"}, 406, "not_acceptable"),
        ("/v1/status-lists", {}, 404, "not_found"),
    ],
    ids=["unknown_list", "bad_id", "not_acceptable", "no_id"],
)
def test_status_list_refusals(
    sqlite_world: World, path: str, headers: dict[str, str], status: int, kind: str
) -> None:
    sqlite_world.consent()
    response = sqlite_world.client.get(path, headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == PROBLEM_TYPE_BASE + kind


def test_the_status_read_inside_a_read_matches_the_list(target: Target) -> None:
    """The read statement's one-byte status lookup equals the whole list's entry (both SQLs)."""
    db: Database = target.open()
    picks = [0, 1, 2, 3, 4, 5, 6, 7, consent_status.LIST_SIZE - 1]
    picks += [secrets.randbelow(consent_status.LIST_SIZE) for _ in range(24)]
    values = {idx: secrets.randbelow(3) for idx in picks}

    def seed(conn: Connection) -> None:
        add_wallet(conn)
        list_id = consent_status.current_list(conn, now=NOW)
        for n, (idx, value) in enumerate(values.items()):
            consent_status.set_status(conn, list_id, idx, Status(value), now=NOW)
            conn.execute(
                insert(StatusAllocation).values(status_list_id=list_id, idx=idx, allocated_at=NOW)
            )
            conn.execute(
                insert(Consent).values(
                    id=f"c{n}", owner="w1", verifier_id="v", state="given", token="t",
                    status_list_id=list_id, status_idx=idx, granted_at=NOW, expires_at=NOW + 1,
                )
            )  # fmt: skip

    def read(conn: Connection) -> dict[int, int]:
        found = {}
        for n, idx in enumerate(values):
            row = fetch_read_row(conn, f"c{n}")
            assert row is not None
            found[idx] = _status(conn, row)
        return found

    try:
        db.run(seed)
        assert db.run(read, write=False) == values
    finally:
        db.dispose()
