"""The parking-permit desk: a real verifier service over the real wallet host.

The desk is :func:`verifier.example_service.create_app` with its own home
(identity file, trust file, SQLite store); the host and the issuer's status
list are the apps of :mod:`tests.verifier.host_world`. Its OpenAPI document
passes the Logius NL GOV ruleset like the issuer's.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from regie_protocol.http import PROBLEM_TYPE_BASE
from tests.spectral import lint_errors
from tests.verifier.desk_world import DESK_URL, Desk, desk_world
from verifier.purge import PurgeReason, purge
from verifier.store import ConsentRowState
from wallet.consents import revoke


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    with desk_world(tmp_path) as built:
        yield built


def test_permit_for_a_valid_consent_reads_the_address_and_keeps_it(desk: Desk) -> None:
    token = desk.collect()
    response = desk.apply(token)
    assert response.status_code == 201, response.text
    permit = response.json()
    assert permit["address"]["locality"] == "Utrecht"
    assert permit["licensePlate"] == "XX-123-Y"
    assert permit["addressKept"] is True
    assert response.headers["API-Version"] == "1.0.0"
    kept = desk.context.store.kept(permit["consent"])
    assert [k.attributes for k in kept] == [("address",)]


def test_permit_without_store_consent_keeps_nothing(desk: Desk) -> None:
    token = desk.collect(retention="P0D")
    response = desk.apply(token)
    assert response.status_code == 201, response.text
    assert response.json()["addressKept"] is False
    assert desk.context.store.kept() == []


def test_no_token_401_revoked_403(desk: Desk) -> None:
    assert desk.apply(None).status_code == 401
    token = desk.collect()
    consent_id = desk.context.store.consents()[0].jti
    revoke(desk.world.wallet, consent_id, now=desk.world.clock.now)
    desk.world.clock.now += 3600  # past the status list's ttl: the desk sees the revocation
    response = desk.apply(token)
    assert response.status_code == 403
    assert response.json()["type"] == PROBLEM_TYPE_BASE + "revoked"


def test_revoked_within_ttl_the_host_refuses_the_read(desk: Desk) -> None:
    token = desk.collect()
    assert desk.apply(token).status_code == 201
    revoke(desk.world.wallet, desk.context.store.consents()[0].jti, now=desk.world.clock.now)
    response = desk.apply(token)  # the desk's cached list still says valid; the host does not
    assert response.status_code == 403
    assert response.json()["type"].removeprefix(PROBLEM_TYPE_BASE) in ("consent_ended", "revoked")
    # the desk's store heard it: the address it kept goes now, not after the list's ttl
    assert [c.state for c in desk.context.store.consents()] == [ConsentRowState.WITHDRAWN]
    report = purge(desk.context.store, now=desk.world.clock.now, status=desk.context.status)
    assert [p.reason for p in report.purged] == [PurgeReason.WITHDRAWN]
    assert desk.context.store.kept() == []


def test_bad_body_is_400_problem(desk: Desk) -> None:
    token = desk.collect()
    response = desk.apply(token, plate="not a plate")
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


def test_desk_openapi_has_no_errors(desk: Desk, tmp_path: Path) -> None:
    document = desk.app.openapi()
    assert lint_errors(document, tmp_path) == []
    assert document["servers"] == [{"url": DESK_URL + "/v1"}]
    operation = document["paths"]["/parking-permits"]["post"]
    assert {"400", "401", "403", "503"} <= set(operation["responses"])
