"""``regie consent ...`` as a citizen runs it, on SQLite and PostgreSQL.

Exit codes, one-line refusals with the vault unchanged, and the token checked
by PyJWT with the public JWK that ``consent show --json`` prints.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import jwt
import pytest

from tests.regie.consent_cli import citizen_environment, run, run_json
from tests.wallet.consents.helpers import (
    HOST_URL,
    UNREGISTERED,
    VERIFIER,
    Setup,
    setup_wallet,
    snapshot,
)
from tests.wallet.databases import Target, target
from wallet.storage import Database

__all__ = ["target"]


@pytest.fixture
def env(target: Target, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Target, Setup]]:
    citizen_environment(monkeypatch, target.home, target.url)
    db = target.open()
    try:
        yield target, setup_wallet(db, now=int(time.time()))
    finally:
        db.dispose()


GRANT = [
    "grant",
    "--verifier",
    VERIFIER,
    "--attributes",
    "age_over_65,address.locality",
    "--purpose",
    "ServiceProvision",
    "--valid",
    "30d",
]


def test_grant_show_verifies_with_pyjwt(env: tuple[Target, Setup]) -> None:
    granted = run_json(*GRANT, "--retention", "90d", "--max-uses", "2")
    shown = run_json("show", granted["id"])
    assert shown["token"] == granted["token"] and shown["state"] == "given"
    assert shown["state_iri"] == "https://w3id.org/dpv#ConsentGiven"
    assert shown["status"]["uri"] == f"{HOST_URL}/v1/status-lists/consents-1"
    assert shown["status"]["value"] == 0 and "d" not in shown["public_jwk"]
    key = jwt.PyJWK(shown["public_jwk"]).key
    assert jwt.get_unverified_header(granted["token"])["typ"] == "regie-consent+jwt"
    claims = jwt.decode(
        granted["token"],
        key=key,
        algorithms=["EdDSA"],
        audience=VERIFIER,
        options={"require": ["exp", "iat", "nbf", "aud", "iss"]},
    )
    assert claims == shown["claims"]
    assert claims["exp"] - claims["iat"] == 30 * 86400
    (detail,) = claims["authorization_details"]
    assert detail["claims"] == ["age_over_65", "address.locality"]
    assert detail["actions"] == ["present", "store"] and detail["retention"] == "P90D"
    assert detail["max_uses"] == 2 and detail["purpose"] == "https://w3id.org/dpv#ServiceProvision"
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(granted["token"], key=key, algorithms=["EdDSA"], audience=UNREGISTERED)


def test_plain_grant_prints_id_and_token(env: tuple[Target, Setup]) -> None:
    result = run(*GRANT)
    assert result.exit_code == 0, result.stderr
    first, token = result.stdout.strip().splitlines()
    assert first.startswith("consent ") and VERIFIER in first
    assert token.count(".") == 2


def test_list_revoke_history(env: tuple[Target, Setup]) -> None:
    a = run_json(*GRANT)
    b = run_json(*GRANT[:-1], "P1D")
    assert {c["id"] for c in run_json("list")} == {a["id"], b["id"]}
    result = run("revoke", a["id"])
    assert result.exit_code == 0, result.stderr
    assert "withdrawn" in result.stdout and "INVALID" in result.stdout
    assert [c["id"] for c in run_json("list")] == [b["id"]]
    states = {c["id"]: c["state"] for c in run_json("list", "--all")}
    assert states == {a["id"]: "withdrawn", b["id"]: "given"}
    assert run_json("show", a["id"])["status"]["value"] == 1
    events = run_json("history", a["id"])
    assert [e["event"] for e in events] == ["consent.granted", "consent.withdrawn"]
    assert len(run_json("history")) == 3
    for command in (["list"], ["list", "--all"], ["history"], ["show", b["id"]]):
        plain = run(*command)
        assert plain.exit_code == 0, plain.stderr


BAD = [
    ("unknown_verifier", ["--verifier", UNREGISTERED], 1, "verifier_unregistered"),
    ("beyond_registration", ["--attributes", "nlqf_level"], 1, "beyond_registration"),
    ("attribute_not_held", ["--attributes", "income_by_year"], 1, "attribute_not_held"),
    ("unknown_purpose_iri", ["--purpose", "https://w3id.org/dpv#Servicing"], 1, "claim_invalid"),
    ("unknown_legal_basis", ["--legal-basis", "https://example.org/lb"], 1, "claim_invalid"),
    ("bad_duration", ["--valid", "30 days"], 2, "--valid"),
    ("months_are_not_fixed", ["--valid", "P1M"], 2, "--valid"),
    ("bad_retention", ["--retention", "forever"], 2, "--retention"),
]


def _grant_with(changes: list[str]) -> list[str]:
    args = list(GRANT)
    for name, value in zip(changes[::2], changes[1::2], strict=True):
        if name in args:
            args[args.index(name) + 1] = value
        else:
            args += [name, value]
    return args


def _snap(target: Target) -> tuple[object, ...]:
    db: Database = target.open()
    try:
        return snapshot(db, target.home)
    finally:
        db.dispose()


@pytest.mark.parametrize(
    ("changes", "code", "start"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_bad_grant_is_one_line_and_changes_nothing(
    env: tuple[Target, Setup], changes: list[str], code: int, start: str
) -> None:
    target, _ = env
    assert run(*GRANT).exit_code == 0  # positive control
    before = _snap(target)
    result = run(*_grant_with(changes))
    assert result.exit_code == code, result.stdout
    assert result.stderr.startswith("regie: ") and start in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert _snap(target) == before


@pytest.mark.parametrize("case", ["unknown", "twice"])
def test_revoke_refusals(env: tuple[Target, Setup], case: str) -> None:
    target, _ = env
    granted = run_json(*GRANT)
    consent_id = "no-such-consent" if case == "unknown" else granted["id"]
    if case == "twice":
        assert run("revoke", granted["id"]).exit_code == 0
    before = _snap(target)
    result = run("revoke", consent_id)
    assert result.exit_code == 1
    expected = "consent_unknown" if case == "unknown" else "consent_ended"
    assert result.stderr.startswith(f"regie: {expected}: ") and result.stderr.count("\n") == 1
    assert _snap(target) == before


@pytest.mark.service
@pytest.mark.interop
def test_jose_verifies_a_granted_consent(env: tuple[Target, Setup]) -> None:
    """node ``jose`` verifies a token from ``consent grant`` with the JWK ``show`` prints."""
    from tests.interop.test_jws_interop_node import peer

    granted = run_json(*GRANT, "--alg", "ES256")
    shown = run_json("show", granted["id"])
    now = shown["claims"]["iat"] + 60
    base = {
        "op": "verify",
        "token": granted["token"],
        "jwk": shown["public_jwk"],
        "algorithms": ["ES256"],
        "typ": "regie-consent+jwt",
        "audience": VERIFIER,
        "now": now,
    }
    good, wrong_aud, expired = peer(
        base, {**base, "audience": UNREGISTERED}, {**base, "now": shown["claims"]["exp"] + 1}
    )
    assert good["ok"], good
    assert good["payload"] == shown["claims"]
    assert good["protectedHeader"]["typ"] == "regie-consent+jwt"
    assert wrong_aud["code"] == "ERR_JWT_CLAIM_VALIDATION_FAILED"
    assert expired["code"] == "ERR_JWT_EXPIRED"
