"""``regie consent requests|approve|refuse`` as a citizen runs them, on SQLite and PostgreSQL.

Requests arrive as at the wallet host (:func:`wallet.inbox.accept_request`);
the CLI answers them. Refusals are one line, exit 1, and change nothing. The
last test runs the whole citizen story with a real issuer service: a new
address received with ``regie wallet receive`` re-seals the active consent.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import Result

from regie.cli import app
from regie_protocol import sdjwt
from regie_protocol.consent import LocalizedText
from regie_protocol.consent_request import ConsentRequestClaims, sign_request
from regie_protocol.keys import Alg, SigningKey, public_key_from_jwk
from regie_protocol.release import decrypt_release
from tests.regie.consent_cli import citizen_environment, run, run_json, runner
from tests.wallet.consents.helpers import SERVICE, snapshot
from tests.wallet.credentials.helpers import ISSUER_ID, AsgiFetcher, start_issuer
from tests.wallet.databases import Target, target
from tests.wallet.requests.helpers import (
    DAY,
    GOV_TASK,
    HOST_URL,
    VERIFIER,
    World,
    build_registry,
    make_world,
    verifier_keys,
)
from tests.wallet.requests.test_reseal import MOVED
from wallet import requests
from wallet.core import wallet_ids
from wallet.inbox import accept_request, answer_for
from wallet.request_text import describe
from wallet.storage import Database, Release, open_database

__all__ = ["target"]


@pytest.fixture
def env(target: Target, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Target, World]]:
    citizen_environment(monkeypatch, target.home, target.url)
    db = target.open()
    try:
        yield target, make_world(db, now=int(time.time()))
    finally:
        db.dispose()


def _snap(target: Target) -> tuple[object, ...]:
    db: Database = target.open()
    try:
        return snapshot(db, target.home)
    finally:
        db.dispose()


def test_no_requests(env: tuple[Target, World]) -> None:
    result = run("requests")
    assert result.exit_code == 0 and "No requests are waiting" in result.stdout
    assert run_json("requests") == []


def test_requests_say_who_asks_what_why_and_for_how_long(env: tuple[Target, World]) -> None:
    _, world = env
    stored = world.send()
    text = LocalizedText(nl="Uw parkeervergunning", en="Your parking permit")
    gov = world.send(
        legal_basis=GOV_TASK,
        purpose_text=text,
        optional_attributes=("income_by_year",),
        retention="P0D",
        max_uses=None,
        frequency=None,
        valid_for=DAY + 3600,
    )
    listed = {r["id"]: r for r in run_json("requests")}
    assert set(listed) == {stored.id, gov.id}
    assert listed[stored.id]["verifier_name"] == "Gemeente Utrecht — Ouderenpas"
    assert listed[stored.id]["attributes"] == ["age_over_65", "address.locality"]
    assert listed[gov.id]["not_held"] == ["income_by_year"]
    assert not listed[gov.id]["relies_on_consent"]
    result = run("requests")
    assert result.exit_code == 0, result.stderr
    for label in (f"Request {stored.id}", "Who asks", "Wants to see", "Legal ground", "revoke"):
        assert label in result.stdout
    views = requests.pending_requests(world.wallet, now=world.now)
    said = {view.id: " ".join(dict(describe(view)).values()) for view in views}
    lines = [said[stored.id], said[gov.id]]
    for expected in (
        "Gemeente Utrecht — Ouderenpas",
        "age_over_65, address.locality",
        "given_name (you may leave these out)",
        "Service Provision (nl: Een dienst leveren)",
        "your consent",
        "you are free to say no",
        "30 days after you approve, at most 5 times, at most once every 1 day",
        "yes, for 90 days after each use",
    ):
        assert expected in lines[0], expected
    for expected in (
        "Your parking permit (nl: Uw parkeervergunning)",
        "does not rely on your consent",
        "income_by_year: you hold no credential with this",
        "no: it may only look",
        "1 day, 1 hour after you approve no: it may only look",
    ):
        assert expected in lines[1], expected


def test_approve_leaving_out_an_optional_attribute(env: tuple[Target, World]) -> None:
    _, world = env
    stored = world.send()
    done = run_json("approve", stored.id, "--leave-out", "given_name")
    assert done["request"] == stored.id and done["state"] == "approved"
    assert done["attributes"] == ["age_over_65", "address.locality"]
    assert done["left_out"] == ["given_name"] and done["verifier"] == VERIFIER
    assert [c["id"] for c in run_json("list")] == [done["consent"]]
    assert run_json("show", done["consent"])["token"] == done["token"]
    answer = answer_for(
        world.db, stored.id, jkt=world.verifier.signing.public_key.thumbprint(), now=world.now
    )
    assert answer is not None and answer.consent_token == done["token"]
    assert run_json("requests") == []


def test_plain_approve_and_refuse_speak_plainly(env: tuple[Target, World]) -> None:
    _, world = env
    first, second = world.send(), world.send()
    result = run("approve", first.id)
    assert result.exit_code == 0, result.stderr
    consent_id = run_json("list")[0]["id"]
    text = " ".join(result.stdout.split())
    assert "You gave Gemeente Utrecht — Ouderenpas consent to see" in text
    assert "only Gemeente Utrecht — Ouderenpas can read it" in text
    assert f"regie consent revoke {consent_id}" in text
    refused = run("refuse", second.id)
    assert refused.exit_code == 0, refused.stderr
    assert f"You refused request {second.id}" in refused.stdout
    assert "Nothing was shared" in refused.stdout
    third = world.send()
    assert run_json("refuse", third.id)["state"] == "refused"


BAD = [
    ("unknown_request", lambda w: ["approve", "no-such-request"], 1, "request_unknown"),
    ("refuse_unknown", lambda w: ["refuse", "no-such-request"], 1, "request_unknown"),
    (
        "leave_out_required",
        lambda w: ["approve", w.send().id, "--leave-out", "age_over_65"],
        1,
        "claim_invalid",
    ),
    (
        "attribute_not_held",
        lambda w: ["approve", w.send(optional_attributes=("income_by_year",)).id],
        1,
        "attribute_not_held",
    ),
    ("answered_twice", lambda w: ["approve", _approved(w)], 1, "request_answered"),
    ("no_request_named", lambda w: ["approve"], 2, "Missing argument"),
]


def _approved(world: World) -> str:
    request_id = world.send().id
    assert run("approve", request_id).exit_code == 0
    return request_id


@pytest.mark.parametrize(("make", "code", "start"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_refusals_are_one_line_and_change_nothing(
    env: tuple[Target, World], make: Any, code: int, start: str
) -> None:
    target, world = env
    assert run("approve", world.send().id).exit_code == 0  # positive control
    args = make(world)
    before = _snap(target)
    result = run(*args)
    assert result.exit_code == code, result.stdout
    assert start in result.stderr and "Traceback" not in result.stderr
    if code == 1:
        assert result.stderr.startswith(f"regie: {start}: ") and result.stderr.count("\n") == 1
    assert _snap(target) == before


def test_a_new_address_reseals_through_wallet_receive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """init → trust → receive → registry → request → approve → receive a move → resealed."""
    home = tmp_path / "home"
    citizen_environment(monkeypatch, home, None)
    now = int(time.time())
    issuer = start_issuer(tmp_path, now=now)
    monkeypatch.setattr("regie.cli_wallet.make_fetcher", lambda: AsgiFetcher(issuer.app))

    def wallet(*args: str) -> Result:
        result = runner.invoke(app, ["wallet", *args])
        assert result.exit_code == 0, result.stderr
        return result

    wallet("init")
    holder = public_key_from_jwk(json.loads(wallet("holder-key").stdout))
    wallet("trust", "add-issuer", ISSUER_ID, "--metadata", ISSUER_ID)
    first = tmp_path / "brp.txt"
    first.write_text(issuer.issue(holder, now=now)[0])
    assert "Updated" not in wallet("receive", str(first)).stdout
    registrar = SigningKey.generate(Alg.EDDSA)
    verifier = verifier_keys(VERIFIER, "Gemeente Utrecht — Parkeren")
    registry = build_registry(now, registrar, (verifier, frozenset({"address"})))
    (tmp_path / "registry.jwt").write_text(registry.sign(registrar))
    (tmp_path / "registrar.jwk").write_text(json.dumps(registrar.public_key.to_jwk()))
    wallet(
        "trust",
        "add-registry",
        str(tmp_path / "registry.jwt"),
        "--registrar-jwk",
        str(tmp_path / "registrar.jwk"),
    )

    db = open_database(None, home=home)
    try:
        (owner,) = wallet_ids(db)
        token = _request(verifier.signing, owner=owner, now=now)
        stored = accept_request(db, token, host_url=HOST_URL, now=now)
        done = run_json("approve", stored.id)
        assert done["attributes"] == ["address.locality"]

        moved = tmp_path / "moved.txt"
        moved.write_text(issuer.issue(holder, now=now, claims=MOVED)[0])
        received = wallet("receive", str(moved)).stdout
        assert "Updated the data prepared for 1 active consent(s)" in received
        (row,) = db.fetch_all(select(Release))
    finally:
        db.dispose()
    (presentation,) = decrypt_release(row["jwe"], keys=verifier.encryption).presentations
    shown = sdjwt.verify(
        presentation,
        issuer_keys={ISSUER_ID: {issuer.key.kid: issuer.key.public_key}},
        key_binding=sdjwt.KeyBindingRequired(audience=VERIFIER, nonce=done["consent"]),
        status=sdjwt.UNSAFE_SKIP_STATUS,
        now=now,
        accepted_vcts=None,
    )
    assert shown.claims["address"] == {"locality": "Amersfoort", "country": "NL"}


def _request(key: SigningKey, *, owner: str, now: int) -> str:
    claims = ConsentRequestClaims(
        iss=VERIFIER,
        aud=HOST_URL,
        jti="parking-1",
        iat=now,
        exp=now + DAY,
        inbox=owner,
        attributes=("address.locality",),
        purpose=SERVICE,
        legal_basis=GOV_TASK,
        valid_for=30 * DAY,
    )
    return sign_request(claims, key=key)
