"""Receiving credentials: verified before stored, refused with the reason, nothing else changed.

Every refusal starts from a credential this wallet accepts (the positive
control in the same test) and changes ONE thing: the holder it is bound to,
the clock, its status, the trust list, a byte of the token.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regie_protocol import sdjwt
from regie_protocol.errors import (
    ClaimRefused,
    Code,
    DisclosureRefused,
    KeyBindingRefused,
    MalformedInput,
    RegieError,
    SignatureRefused,
    StatusRefused,
    TimeRefused,
    Unavailable,
)
from regie_protocol.keys import Alg, SigningKey
from regie_protocol.statuslist import Status
from wallet import credentials
from wallet.core import UnlockedWallet
from wallet.credentials import CredentialState
from wallet.fetch import Fetcher
from wallet.holder_keys import HOLDER_KEY, holder_key, new_holder_key
from wallet.storage import Record
from wallet.trust import add_issuer

from .helpers import BRP_VCT, ISSUER_ID, AsgiFetcher, IssuerWorld, OfflineFetcher

YEAR = 365 * 86400


@dataclass
class Case:
    """One change to the good situation: returns the token and the fetcher to use."""

    change: Callable[[UnlockedWallet, IssuerWorld, AsgiFetcher, int], tuple[str, Fetcher, int]]
    error: type[RegieError]
    code: Code


def _good(wallet: UnlockedWallet, world: IssuerWorld, now: int) -> tuple[str, int]:
    add_issuer(wallet, ISSUER_ID, world.jwks(), now=now)
    holder = new_holder_key(wallet, Alg.EDDSA, now=now)
    return world.issue(holder, now=now)


def _other_holder(w: UnlockedWallet, world: IssuerWorld, f: AsgiFetcher, now: int):  # type: ignore[no-untyped-def]
    add_issuer(w, ISSUER_ID, world.jwks(), now=now)
    new_holder_key(w, Alg.EDDSA, now=now)
    token, _ = world.issue(SigningKey.generate(Alg.EDDSA).public_key, now=now)
    return token, f, now


def _expired(w, world, f, now):  # type: ignore[no-untyped-def]
    token, _ = _good(w, world, now)
    return token, f, now + YEAR + 1


def _status(value: Status):  # type: ignore[no-untyped-def]
    def change(w, world, f, now):  # type: ignore[no-untyped-def]
        token, index = _good(w, world, now)
        world.set_status(index, value)
        return token, f, now

    return change


def _unknown_issuer(w, world, f, now):  # type: ignore[no-untyped-def]
    holder = new_holder_key(w, Alg.EDDSA, now=now)
    token, _ = world.issue(holder, now=now)
    return token, f, now


def _other_issuer_keys(w, world, f, now):  # type: ignore[no-untyped-def]
    token, _ = _good(w, world, now)
    other = SigningKey.generate(Alg.ES256).public_key.to_jwk()
    add_issuer(w, ISSUER_ID, {"keys": [other]}, now=now)
    return token, f, now


def _tampered(w, world, f, now):  # type: ignore[no-untyped-def]
    token, _ = _good(w, world, now)
    jwt, rest = token.split("~", 1)
    head, body, sig = jwt.split(".")
    flipped = sig[:10] + ("A" if sig[10] != "A" else "B") + sig[11:]
    return f"{head}.{body}.{flipped}~{rest}", f, now


def _dropped_disclosure_digest(w, world, f, now):  # type: ignore[no-untyped-def]
    token, _ = _good(w, world, now)
    parts = token.split("~")
    return "~".join([parts[0], "WyJzYWx0IiwgIngiLCAxXQ", *parts[1:]]), f, now


def _with_key_binding(w, world, f, now):  # type: ignore[no-untyped-def]
    token, _ = _good(w, world, now)
    kid = next(iter(r.ref for r in w.find(HOLDER_KEY)))
    assert kid is not None
    shown = sdjwt.present(
        token, disclose=[], holder_key=holder_key(w, kid), audience="x", nonce="n", now=now
    )
    return shown, f, now


def _offline(w, world, f, now):  # type: ignore[no-untyped-def]
    token, _ = _good(w, world, now)
    return token, OfflineFetcher(), now


def _not_a_token(w, world, f, now):  # type: ignore[no-untyped-def]
    _good(w, world, now)
    return "this is not a credential", f, now


CASES = {
    "bound to another holder": Case(_other_holder, ClaimRefused, Code.CLAIM_INVALID),
    "expired": Case(_expired, TimeRefused, Code.EXPIRED),
    "revoked": Case(_status(Status.INVALID), StatusRefused, Code.REVOKED),
    "suspended": Case(_status(Status.SUSPENDED), StatusRefused, Code.SUSPENDED),
    "unknown issuer": Case(_unknown_issuer, SignatureRefused, Code.ISSUER_UNTRUSTED),
    "issuer key not trusted": Case(_other_issuer_keys, SignatureRefused, Code.KEY_UNKNOWN),
    "tampered signature": Case(_tampered, SignatureRefused, Code.SIGNATURE_INVALID),
    "unreferenced disclosure": Case(
        _dropped_disclosure_digest, DisclosureRefused, Code.DISCLOSURE_UNREFERENCED
    ),
    "key binding JWT attached": Case(
        _with_key_binding, KeyBindingRefused, Code.KEY_BINDING_UNEXPECTED
    ),
    "status unreachable": Case(_offline, Unavailable, Code.UNAVAILABLE),
    "not a token": Case(_not_a_token, MalformedInput, Code.MALFORMED),
}


def test_good_credential_is_received(
    wallet: UnlockedWallet, world: IssuerWorld, fetcher: AsgiFetcher, now: int
) -> None:
    token, index = _good(wallet, world, now)
    got = credentials.receive(wallet, token, now=now, fetcher=fetcher)
    assert (got.issuer, got.vct, got.replaced, got.already_held) == (ISSUER_ID, BRP_VCT, (), False)
    held = credentials.get_credential(wallet, got.id)
    assert held.claims["family_name"] == "de Vries"
    assert held.status == (ISSUER_ID + "/v1/status-lists/1", index)
    assert held.expires_at == now + YEAR
    assert "address" in held.disclosable() and "cnf" not in held.disclosable()
    assert fetcher.fetched == [ISSUER_ID + "/v1/status-lists/1"]


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_refused_credential_changes_nothing(
    case: Case, wallet: UnlockedWallet, world: IssuerWorld, fetcher: AsgiFetcher, now: int
) -> None:
    token, used_fetcher, at = case.change(wallet, world, fetcher, now)
    before = wallet.db.fetch_all(Record.__table__.select().order_by("id"))  # type: ignore[attr-defined]
    with pytest.raises(case.error) as caught:
        credentials.receive(wallet, token, now=at, fetcher=used_fetcher)
    assert type(caught.value) is case.error
    assert caught.value.code is case.code
    after = wallet.db.fetch_all(Record.__table__.select().order_by("id"))  # type: ignore[attr-defined]
    assert before == after
    assert credentials.held_credentials(wallet) == []


def test_newer_replaces_older_and_older_is_refused(
    wallet: UnlockedWallet, world: IssuerWorld, fetcher: AsgiFetcher, now: int
) -> None:
    old_token, _ = _good(wallet, world, now)
    holder = next(iter(wallet.find(HOLDER_KEY)))
    first = credentials.receive(wallet, old_token, now=now, fetcher=fetcher)
    moved = {**dict(credentials.get_credential(wallet, first.id).claims)}
    assert moved["address"]["street_address"] == "Oudegracht 231"
    public = holder_key(wallet, str(holder.ref)).public_key
    new_token, _ = world.issue(public, now=now + 60)
    second = credentials.receive(wallet, new_token, now=now + 60, fetcher=fetcher)
    assert second.replaced == (first.id,)
    assert [c.id for c in credentials.held_credentials(wallet)] == [second.id]
    again = credentials.receive(wallet, new_token, now=now + 61, fetcher=fetcher)
    assert again.already_held and again.id == second.id
    with pytest.raises(ClaimRefused) as caught:
        credentials.receive(wallet, old_token, now=now + 62, fetcher=fetcher)
    assert caught.value.code is Code.CLAIM_INVALID
    assert [c.id for c in credentials.held_credentials(wallet)] == [second.id]


def test_states_prune_and_delete(
    wallet: UnlockedWallet, world: IssuerWorld, fetcher: AsgiFetcher, now: int
) -> None:
    token, index = _good(wallet, world, now)
    got = credentials.receive(wallet, token, now=now, fetcher=fetcher)

    def state(at: int, via: Fetcher = fetcher) -> CredentialState:
        ((_, found),) = credentials.credential_states(wallet, now=at, fetcher=via)
        return found

    assert state(now) is CredentialState.VALID
    assert state(now, OfflineFetcher()) is CredentialState.UNKNOWN_OFFLINE
    assert state(now + YEAR) is CredentialState.EXPIRED
    world.set_status(index, Status.SUSPENDED)
    assert state(now) is CredentialState.SUSPENDED
    assert credentials.prune(wallet, now=now, fetcher=fetcher) == []
    world.set_status(index, Status.INVALID)
    assert state(now) is CredentialState.REVOKED
    ((gone, why),) = credentials.prune(wallet, now=now, fetcher=fetcher)
    assert (gone.id, why) == (got.id, CredentialState.REVOKED)
    assert credentials.held_credentials(wallet) == []

    holder = holder_key(wallet, str(next(iter(wallet.find(HOLDER_KEY))).ref)).public_key
    token2, _ = world.issue(holder, now=now + 5)
    second = credentials.receive(wallet, token2, now=now + 5, fetcher=fetcher)
    credentials.delete_credentials(wallet, [second.id])
    assert credentials.held_credentials(wallet) == []
    assert len(wallet.find(HOLDER_KEY)) == 1  # delete touches credentials only


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(junk=st.text(max_size=300) | st.binary(max_size=300).map(lambda b: b.decode("latin-1")))
@pytest.mark.parametrize("target", ["sqlite"], indirect=True)
def test_arbitrary_input_gives_typed_errors(wallet: UnlockedWallet, junk: str, now: int) -> None:
    try:
        credentials.receive(wallet, junk, now=now, fetcher=OfflineFetcher())
    except RegieError:
        pass
    else:  # pragma: no cover
        pytest.fail("junk was accepted")
