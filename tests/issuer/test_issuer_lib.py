"""The issuer library: issuance bound to the holder, schemas, status, key rotation, state."""

from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from issuer import (
    CREDENTIAL_TYPES,
    SOURCES,
    Issuer,
    StateFile,
    check_issuer_id,
    new_state,
    with_derived_claims,
)
from issuer.sources import BRP_VCT, DIPLOMA_VCT, INCOME_VCT
from regie_protocol import sdjwt
from regie_protocol.errors import ClaimRefused, Code, KeyRefused, Misuse, StatusRefused
from regie_protocol.keys import Alg, PublicKey, SigningKey
from regie_protocol.private_files import check_private_file
from regie_protocol.statuslist import Status, verify_status_list

BRP = SOURCES["brp"]
VERIFIER = "https://parkeren.gemeente-utrecht.example"


@pytest.fixture
def store(tmp_path: Path) -> StateFile:
    s = StateFile(tmp_path / "issuer.json")
    s.create(new_state(BRP.issuer_id))
    return s


@pytest.fixture
def issuer_key() -> SigningKey:
    return SigningKey.generate(Alg.EDDSA)


def brp_claims() -> dict[str, Any]:
    return with_derived_claims(BRP_VCT, BRP.sample, dt.date(2026, 11, 23))


def issue(store: StateFile, key: SigningKey, holder: PublicKey, now: int, **kw: Any) -> Any:
    with store.transaction() as state:
        return Issuer(state, key, CREDENTIAL_TYPES).issue(
            vct=kw.pop("vct", BRP_VCT),
            claims=kw.pop("claims", brp_claims()),
            holder=holder,
            now=now,
            **kw,
        )


def status_resolver(store: StateFile, key: SigningKey, now: int) -> Any:
    def resolve(uri: str, idx: int) -> Status:
        with store.transaction() as state:
            issuer = Issuer(state, key, CREDENTIAL_TYPES)
            token = issuer.status_list_token(now=now)
            keys = issuer.public_keys()
        return verify_status_list(token, keys=keys, uri=uri, now=now).status(idx)

    return resolve


def verify(store: StateFile, key: SigningKey, presentation: str, now: int) -> sdjwt.VerifiedSdJwt:
    with store.transaction() as state:
        keys = Issuer(state, key, CREDENTIAL_TYPES).public_keys()
    return sdjwt.verify(
        presentation,
        issuer_keys={BRP.issuer_id: keys},
        key_binding=sdjwt.KeyBindingRequired(audience=VERIFIER, nonce="n1"),
        status=status_resolver(store, key, now),
        now=now,
        accepted_vcts=[BRP_VCT],
    )


def present(token: str, holder: SigningKey, now: int, disclose: list[Any]) -> str:
    return sdjwt.present(
        token, disclose=disclose, holder_key=holder, audience=VERIFIER, nonce="n1", now=now
    )


def test_issued_credential_is_bound_to_the_holder_and_verifies(
    store: StateFile, issuer_key: SigningKey, signing_key: SigningKey, now: int
) -> None:
    issued = issue(store, issuer_key, signing_key.public_key, now)
    result = verify(
        store, issuer_key, present(issued.token, signing_key, now, ["age_over_65"]), now
    )
    assert result.claims["age_over_65"] is True
    assert "birthdate" not in result.claims
    assert result.holder_key == signing_key.public_key
    assert result.issuer == BRP.issuer_id
    assert result.vct == BRP_VCT


def test_derived_age_claims_come_from_the_birth_date() -> None:
    claims = with_derived_claims(BRP_VCT, {"birthdate": "2008-11-24"}, dt.date(2026, 11, 23))
    assert claims["age_over_18"] is False
    claims = with_derived_claims(BRP_VCT, {"birthdate": "2008-11-23"}, dt.date(2026, 11, 23))
    assert claims["age_over_18"] is True
    assert claims["age_over_65"] is False


def test_nested_members_and_array_elements_are_disclosable(
    store: StateFile, issuer_key: SigningKey, now: int
) -> None:
    holder = SigningKey.generate(Alg.ES256)
    issued = issue(store, issuer_key, holder.public_key, now)
    shown = present(issued.token, holder, now, [("address", "locality"), ("nationalities", 0)])
    claims = verify(store, issuer_key, shown, now).claims
    assert claims["address"] == {"locality": "Utrecht", "country": "NL"}
    assert claims["nationalities"] == ["NL"]
    assert "given_name" not in claims


@pytest.mark.parametrize(
    ("vct", "source"),
    [(BRP_VCT, "brp"), (INCOME_VCT, "income"), (DIPLOMA_VCT, "diploma")],
    ids=["brp", "income", "diploma"],
)
def test_each_example_source_issues_its_sample(
    tmp_path: Path, issuer_key: SigningKey, now: int, vct: str, source: str
) -> None:
    src = SOURCES[source]
    store = StateFile(tmp_path / f"{source}.json")
    store.create(new_state(src.issuer_id))
    holder = SigningKey.generate()
    claims = with_derived_claims(vct, src.sample, dt.date(2026, 11, 23))
    with store.transaction() as state:
        issued = Issuer(state, issuer_key, CREDENTIAL_TYPES).issue(
            vct=vct, claims=claims, holder=holder.public_key, now=now
        )
    every = [c.name for c in src.ctype.claims if c.name in claims]
    shown = sdjwt.present(issued.token, disclose=every, holder_key=None)
    result = sdjwt.verify(
        shown,
        issuer_keys={src.issuer_id: {issuer_key.kid: issuer_key.public_key}},
        key_binding=sdjwt.NoKeyBinding(),
        status=sdjwt.UNSAFE_SKIP_STATUS,
        now=now,
        accepted_vcts=[vct],
    )
    assert {k: result.claims[k] for k in claims} == claims


SCHEMA_CASES = [
    ("unknown claim", {"shoe_size": 44}, Code.CLAIM_INVALID),
    ("missing claim", {"given_name": None}, Code.CLAIM_MISSING),
    ("wrong type", {"age_over_18": "yes"}, Code.CLAIM_INVALID),
    ("impossible date", {"birthdate": "1958-02-30"}, Code.CLAIM_INVALID),
    ("date with time", {"birthdate": "1958-04-12T00:00"}, Code.CLAIM_INVALID),
    (
        "unknown address member",
        {"address": {**BRP.sample["address"], "floor": "2"}},
        Code.CLAIM_INVALID,
    ),
    ("nationality not a string", {"nationalities": [528]}, Code.CLAIM_INVALID),
    ("empty name", {"family_name": ""}, Code.CLAIM_INVALID),
]


@pytest.mark.parametrize(("case", "change", "code"), SCHEMA_CASES, ids=[c[0] for c in SCHEMA_CASES])
def test_claims_outside_the_schema_are_refused(
    store: StateFile,
    issuer_key: SigningKey,
    now: int,
    case: str,
    change: dict[str, Any],
    code: Code,
) -> None:
    holder = SigningKey.generate().public_key
    issue(store, issuer_key, holder, now)  # positive control
    claims = {**brp_claims(), **change}
    claims = {k: v for k, v in claims.items() if v is not None}
    with pytest.raises(ClaimRefused) as info:
        issue(store, issuer_key, holder, now, claims=claims)
    assert info.value.code is code


def test_unknown_type_and_never_disclosable_claims_are_refused(
    store: StateFile, issuer_key: SigningKey, now: int
) -> None:
    holder = SigningKey.generate().public_key
    with pytest.raises(ClaimRefused, match="does not issue"):
        issue(store, issuer_key, holder, now, vct="https://example.org/vct/other")
    with pytest.raises(ClaimRefused, match="has no claim 'country'"):
        issue(
            store,
            issuer_key,
            holder,
            now,
            disclosable=["given_name", "nationalities", "address", "country"],
        )


def test_a_claim_the_schema_keeps_plain_cannot_be_made_disclosable() -> None:
    from issuer.schemas import ClaimSpec, CredentialType, Kind, mark_disclosable

    ctype = CredentialType(
        vct="https://credentials.regie.example/vct/test",
        name_nl="Test",
        name_en="Test",
        claims=(
            ClaimSpec("name", Kind.STRING),
            ClaimSpec("level", Kind.INTEGER, disclosable=False),
        ),
    )
    assert "level" in mark_disclosable(ctype, {"name": "A", "level": 3}, None)
    with pytest.raises(ClaimRefused, match="never selectively disclosable"):
        mark_disclosable(ctype, {"name": "A", "level": 3}, ["level"])


def test_only_named_claims_are_disclosable(
    store: StateFile, issuer_key: SigningKey, now: int
) -> None:
    holder = SigningKey.generate()
    issued = issue(store, issuer_key, holder.public_key, now, disclosable=["birthdate"])
    parsed = sdjwt.parse(issued.token)
    assert parsed.unverified_claims["given_name"] == "Anna Maria"
    assert "birthdate" not in parsed.unverified_claims
    claims = verify(store, issuer_key, present(issued.token, holder, now, []), now).claims
    assert "birthdate" not in claims and claims["family_name"] == "de Vries"


def test_status_indices_are_random_distinct_and_never_reused(
    store: StateFile, issuer_key: SigningKey, now: int
) -> None:
    holder = SigningKey.generate().public_key
    indices = [issue(store, issuer_key, holder, now).status_index for _ in range(60)]
    assert len(set(indices)) == len(indices)
    assert indices != sorted(indices)


def test_revoke_suspend_and_reinstate(store: StateFile, issuer_key: SigningKey, now: int) -> None:
    holder = SigningKey.generate()
    issued = issue(store, issuer_key, holder.public_key, now)
    shown = present(issued.token, holder, now, ["given_name"])
    verify(store, issuer_key, shown, now)  # positive control

    def set_status(status: Status) -> None:
        with store.transaction() as state:
            Issuer(state, issuer_key, CREDENTIAL_TYPES).set_status(issued.status_index, status)

    set_status(Status.SUSPENDED)
    with pytest.raises(StatusRefused) as info:
        verify(store, issuer_key, shown, now)
    assert info.value.code is Code.SUSPENDED
    set_status(Status.VALID)
    verify(store, issuer_key, shown, now)
    set_status(Status.INVALID)
    with pytest.raises(StatusRefused) as info:
        verify(store, issuer_key, shown, now)
    assert info.value.code is Code.REVOKED
    with pytest.raises(Misuse, match="stays revoked"):
        set_status(Status.VALID)
    with pytest.raises(StatusRefused) as info:
        verify(store, issuer_key, shown, now)
    assert info.value.code is Code.REVOKED


def test_status_of_an_index_never_handed_out_cannot_be_set(
    store: StateFile, issuer_key: SigningKey
) -> None:
    with store.transaction() as state, pytest.raises(StatusRefused) as info:
        Issuer(state, issuer_key, CREDENTIAL_TYPES).set_status(7, Status.INVALID)
    assert info.value.code is Code.STATUS_INDEX_OUT_OF_RANGE


def test_rotated_key_keeps_verifying_what_it_signed(
    store: StateFile, issuer_key: SigningKey, now: int
) -> None:
    holder = SigningKey.generate()
    old = issue(store, issuer_key, holder.public_key, now)
    new_key = SigningKey.generate(Alg.ES256)
    with store.transaction() as state:
        Issuer(state, issuer_key, CREDENTIAL_TYPES).rotate_key(new_key)
    new = issue(store, new_key, holder.public_key, now)
    with store.transaction() as state:
        jwks = Issuer(state, new_key, CREDENTIAL_TYPES).jwks()
    assert {k["kid"] for k in jwks["keys"]} == {issuer_key.kid, new_key.kid}
    for issued in (old, new):
        verify(store, new_key, present(issued.token, holder, now, ["given_name"]), now)
    with store.transaction() as state, pytest.raises(Misuse):
        Issuer(state, new_key, CREDENTIAL_TYPES).rotate_key(new_key)


def test_a_failed_transaction_writes_nothing(
    store: StateFile, issuer_key: SigningKey, now: int
) -> None:
    before = store.path.read_bytes()
    holder = SigningKey.generate().public_key

    def issue_two() -> None:
        with store.transaction() as state:
            issuer = Issuer(state, issuer_key, CREDENTIAL_TYPES)
            issuer.issue(vct=BRP_VCT, claims=brp_claims(), holder=holder, now=now)
            issuer.issue(vct=BRP_VCT, claims={"x": 1}, holder=holder, now=now)

    with pytest.raises(ClaimRefused):
        issue_two()
    assert store.path.read_bytes() == before


def test_state_file_is_private_and_an_exposed_one_is_refused(store: StateFile) -> None:
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    os.chmod(store.path, 0o644)
    with pytest.raises(KeyRefused) as info:
        check_private_file(store.path)
    assert info.value.code is Code.KEY_FILE_EXPOSED
    with pytest.raises(KeyRefused):
        store.load()


@pytest.mark.parametrize(
    ("issuer_id", "ok"),
    [
        ("https://brp.gemeente-utrecht.example", True),
        ("https://duo.example/issuer", True),
        ("http://brp.example", False),
        ("https://brp.example/", False),
        ("https://brp.example?x=1", False),
        ("ftp://brp.example", False),
        ("brp.example", False),
        ("http://127.0.0.1:8001", True),
    ],
)
def test_issuer_identifiers(issuer_id: str, ok: bool) -> None:
    if ok:
        assert check_issuer_id(issuer_id, allow_http_localhost=True) == issuer_id
    else:
        with pytest.raises(Misuse):
            check_issuer_id(issuer_id, allow_http_localhost=True)
    with pytest.raises(Misuse):
        check_issuer_id("http://127.0.0.1:8001", allow_http_localhost=False)
