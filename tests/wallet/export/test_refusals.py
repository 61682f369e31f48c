"""Bad exports, nothing lost: each refused with its class and code, the vault unchanged.

Every case starts from a good export that imports (the positive control in the
same test) and changes one thing. The vault is compared before and after: every
table's rows, and on SQLite the database file and its WAL.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from joserfc import jwe

from regie_protocol._encoding import b64url_decode, b64url_encode
from regie_protocol.errors import (
    ClaimRefused,
    Code,
    KeyRefused,
    MalformedInput,
    RegieError,
)
from tests.wallet.consents.helpers import HOST_URL, new_wallet, setup_wallet, snapshot
from tests.wallet.databases import Target
from wallet import consents
from wallet.core import create_wallet, unlock_wallet
from wallet.export import (
    MAX_EXPORT_BYTES,
    build_export,
    decrypt_export,
    encrypt_export,
    export_wallet,
)
from wallet.restore import import_wallet
from wallet.vault import KdfFloor, KdfParams, VaultPassphrase

from .helpers import export_passphrase, full_wallet, sibling, terms

PP = export_passphrase()


@dataclass(frozen=True)
class Good:
    text: str
    doc: dict[str, Any]


def _reencrypt(change: Callable[[dict[str, Any]], object]) -> Callable[[Good], bytes]:
    def make(good: Good) -> bytes:
        doc = json.loads(json.dumps(good.doc))
        change(doc)
        return encrypt_export(doc, PP).encode()

    return make


def _flip(position: Callable[[str], int]) -> Callable[[Good], bytes]:
    def make(good: Good) -> bytes:
        i = position(good.text)
        swapped = "A" if good.text[i] != "A" else "B"
        return (good.text[:i] + swapped + good.text[i + 1 :]).encode()

    return make


def _header(**changes: Any) -> Callable[[Good], bytes]:
    def make(good: Good) -> bytes:
        parts = good.text.split(".")
        header = json.loads(b64url_decode(parts[0]))
        header.update(changes)
        header = {k: v for k, v in header.items() if v is not None}
        parts[0] = b64url_encode(json.dumps(header).encode())
        return ".".join(parts).encode()

    return make


def _joserfc(alg: str, p2c: int) -> Callable[[Good], bytes]:
    def make(good: Good) -> bytes:
        from joserfc.jwk import OctKey

        key = OctKey.import_key(b"rivier brug molen zon")
        header = {"alg": alg, "enc": "A256GCM", "cty": "regie-wallet-export+json", "p2c": p2c}
        return jwe.encrypt_compact(
            header, json.dumps(good.doc).encode(), key, algorithms=[alg, "A256GCM"]
        ).encode()

    return make


def _consent_state(doc: dict[str, Any]) -> None:
    doc["consents"][0]["state"] = "forgotten"


def _token_of_another(doc: dict[str, Any]) -> None:
    doc["consents"][0]["token"] = doc["consents"][1]["token"]


BAD: list[tuple[str, Callable[[Good], bytes], type[RegieError], Code]] = [
    ("wrong_passphrase", lambda g: g.text.encode(), KeyRefused, Code.KEY_INVALID),
    ("truncated_tag", lambda g: g.text[:-2].encode(), KeyRefused, Code.KEY_INVALID),
    (
        "truncated_half",
        lambda g: g.text[: len(g.text) // 2].encode(),
        MalformedInput,
        Code.MALFORMED,
    ),
    ("truncated_to_nothing", lambda g: b"", MalformedInput, Code.MALFORMED),
    ("flipped_ciphertext", _flip(lambda t: t.rindex(".") - 40), KeyRefused, Code.KEY_INVALID),
    ("flipped_tag", _flip(lambda t: len(t) - 5), KeyRefused, Code.KEY_INVALID),
    (
        "flipped_iv",
        _flip(lambda t: t.split(".", 2)[0].__len__() + t.split(".")[1].__len__() + 4),
        KeyRefused,
        Code.KEY_INVALID,
    ),
    ("header_p2c_changed", _header(p2c=250_000), KeyRefused, Code.KEY_INVALID),
    ("header_p2c_too_low", _header(p2c=1000), MalformedInput, Code.MALFORMED),
    ("header_p2c_too_high", _header(p2c=10**9), MalformedInput, Code.MALFORMED),
    ("header_cty_other", _header(cty="jwk+json"), MalformedInput, Code.MALFORMED),
    ("header_zip", _header(zip="DEF"), MalformedInput, Code.MALFORMED),
    ("header_extra_member", _header(kid="x"), MalformedInput, Code.MALFORMED),
    ("weaker_pbes2", _joserfc("PBES2-HS256+A128KW", 210_000), MalformedInput, Code.MALFORMED),
    ("fewer_iterations", _joserfc("PBES2-HS512+A256KW", 2048), MalformedInput, Code.MALFORMED),
    ("not_ascii", lambda g: g.text.encode()[:-1] + b"\xff", MalformedInput, Code.MALFORMED),
    ("too_large", lambda g: b"a" * (MAX_EXPORT_BYTES + 1), MalformedInput, Code.SIZE_EXCEEDED),
    ("unknown_version", _reencrypt(lambda d: d.update(version=3)), MalformedInput, Code.MALFORMED),
    (
        "unknown_format",
        _reencrypt(lambda d: d.update(format="eudi")),
        MalformedInput,
        Code.MALFORMED,
    ),
    ("extra_member", _reencrypt(lambda d: d.update(extra=1)), MalformedInput, Code.MALFORMED),
    (
        "record_not_object",
        _reencrypt(lambda d: d["records"][0].update(payload=[])),
        MalformedInput,
        Code.MALFORMED,
    ),
    ("unknown_consent_state", _reencrypt(_consent_state), MalformedInput, Code.MALFORMED),
    ("consent_token_swapped", _reencrypt(_token_of_another), MalformedInput, Code.MALFORMED),
    ("another_wallet", lambda g: g.text.encode(), ClaimRefused, Code.CLAIM_INVALID),
]


@pytest.mark.parametrize(("case", "make", "error", "code"), BAD, ids=[b[0] for b in BAD])
def test_bad_export_refused_and_vault_unchanged(
    target: Target,
    now: int,
    case: str,
    make: Callable[[Good], bytes],
    error: type[RegieError],
    code: Code,
) -> None:
    db = target.open()
    try:
        setup, _ = full_wallet(db, now=now)
        # the positive control (this good file imports) is test_importing_twice_adds_nothing
        good = Good(_export(setup.wallet, now), build_export(setup.wallet, now=now))
        wallet, home = setup.wallet, target.home
        if case == "another_wallet":
            with sibling(target) as other:
                other_db = other.open()
                try:
                    someone = setup_wallet(other_db, now=now).wallet
                    _assert_refused(someone, other_db, other.home, make(good), PP, error, code, now)
                finally:
                    other_db.dispose()
            return
        passphrase = (
            VaultPassphrase("een heel ander wachtwoord") if case == "wrong_passphrase" else PP
        )
        _assert_refused(wallet, db, home, make(good), passphrase, error, code, now)
    finally:
        db.dispose()


def _export(wallet: Any, now: int) -> str:
    return export_wallet(wallet, PP, now=now)


def _assert_refused(
    wallet: Any,
    db: Any,
    home: Path,
    data: bytes,
    passphrase: VaultPassphrase,
    error: type[RegieError],
    code: Code,
    now: int,
) -> None:
    before = snapshot(db, home)
    with pytest.raises(error) as caught:
        import_wallet(wallet, data, passphrase, now=now + 100)
    assert type(caught.value) is error and caught.value.code == code
    assert "\n" not in str(caught.value)
    assert snapshot(db, home) == before


def test_a_status_index_used_here_is_refused(target: Target, now: int) -> None:
    """Restoring onto a host where another wallet holds the same status index: refused whole."""
    db = target.open()
    try:
        setup, ids = full_wallet(db, now=now)
        text = _export(setup.wallet, now).encode()
        taken = consents.show(setup.wallet, ids[1], now=now)
    finally:
        db.dispose()
    with sibling(target) as other:
        other_db = other.open()
        try:
            neighbour = setup_wallet(other_db, now=now)
            consents.grant(
                neighbour.wallet,
                terms(),
                registry=neighbour.registry,
                now=now,
                host_url=HOST_URL,
                randbelow=lambda n: taken.status_idx,
            )
            phrase = VaultPassphrase("kat boom huis fiets")
            owner = create_wallet(other_db, phrase, now=now, kdf=KdfParams.unsafe_fast_for_tests())
            empty = unlock_wallet(
                other_db, phrase, floor=KdfFloor.unsafe_accept_test_params(), owner=owner
            )
            _assert_refused(
                empty, other_db, other.home, text, PP, ClaimRefused, Code.CLAIM_INVALID, now
            )
            # positive control: into an empty wallet on an empty host it imports
            with sibling(target, "third") as third:
                third_db = third.open()
                try:
                    fresh = new_wallet(third_db, now=now)
                    assert import_wallet(fresh, text, PP, now=now).consents_added == 3
                finally:
                    third_db.dispose()
        finally:
            other_db.dispose()


# --- property tests: only typed errors ------------------------------------------------

_SMALL_DOC = {
    "format": "regie-wallet-export",
    "version": 1,
    "wallet": "w",
    "exported_at": 1,
    "records": [],
    "trusted_issuers": [],
    "registry": None,
    "consents": [],
    "consent_events": [],
    "status": [],
}
_SMALL = encrypt_export(_SMALL_DOC, PP)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_give_typed_errors(data: bytes) -> None:
    with pytest.raises(RegieError):
        decrypt_export(data, PP)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=0, max_value=len(_SMALL) - 1), st.characters(codec="ascii"))
def test_mutated_exports_give_typed_errors(position: int, char: str) -> None:
    mutated = _SMALL[:position] + char + _SMALL[position + 1 :]
    if mutated == _SMALL:
        assert decrypt_export(mutated.encode(), PP).wallet == "w"
        return
    with pytest.raises(RegieError):
        decrypt_export(mutated.encode(), PP)


@settings(max_examples=150, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
        ),
        max_leaves=12,
    ),
    st.sampled_from(sorted(_SMALL_DOC)),
)
def test_documents_of_any_shape_give_typed_errors(value: Any, member: str) -> None:
    from wallet.export import parse_document
    from wallet.restore import check_document

    doc = {**_SMALL_DOC, member: value}
    with contextlib.suppress(RegieError):
        check_document(parse_document(json.dumps(doc).encode()))
