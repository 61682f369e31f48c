"""A grant reuses credentials it opened before only while their rows are unchanged.

Each case starts from a wallet that has just granted (so its held credentials
are opened and kept), changes ONE thing about the credential rows, and checks
that the next grant sees the change: refused with the exact class and code,
and nothing written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlmodel import col

from regie_protocol.errors import ClaimRefused, Code, KeyRefused, RegieError
from regie_protocol.keys import Alg
from wallet import consents
from wallet.core import StoredRecord
from wallet.storage import Consent, ConsentEvent, Record, StatusAllocation

from .helpers import HOST_URL, Setup
from .test_lifecycle import do_grant, terms


def _holder(setup: Setup) -> StoredRecord:
    """The credential holding the attributes the default terms grant."""
    for record in setup.wallet.find(consents.CREDENTIAL_KIND):
        claims = record.payload["claims"]
        if "age_over_65" in claims and "address" in claims:
            return record
    raise AssertionError("no credential holds the granted attributes")


def _replace_same_time(setup: Setup, now: int, **members: Any) -> None:
    record = _holder(setup)
    payload = {**record.payload, **members}
    setup.wallet.replace(record.id, payload, now=record.updated_at)  # updated_at unchanged


def _delete(setup: Setup, now: int) -> None:
    setup.wallet.delete([_holder(setup).id])


def _drop_address(setup: Setup, now: int) -> None:
    claims = {k: v for k, v in _holder(setup).payload["claims"].items() if k != "address"}
    _replace_same_time(setup, now, claims=claims)


def _expire(setup: Setup, now: int) -> None:
    _replace_same_time(setup, now, expires_at=now)


def _tamper(setup: Setup, now: int) -> None:
    record_id = _holder(setup).id
    sealed = bytearray(
        setup.wallet.db.fetch_all(select(col(Record.sealed)).where(col(Record.id) == record_id))[0][
            "sealed"
        ]
    )
    sealed[-1] ^= 0x01
    setup.wallet.db.execute(
        update(Record).where(col(Record.id) == record_id).values(sealed=bytes(sealed))
    )


def _schema_version(setup: Setup, now: int) -> None:
    record_id = _holder(setup).id
    setup.wallet.db.execute(
        update(Record).where(col(Record.id) == record_id).values(schema_version=2)
    )


CASES: list[Any] = [
    pytest.param(_delete, ClaimRefused, Code.ATTRIBUTE_NOT_HELD, id="credential-deleted"),
    pytest.param(
        _drop_address, ClaimRefused, Code.ATTRIBUTE_NOT_HELD, id="attribute-gone-same-updated-at"
    ),
    pytest.param(_expire, ClaimRefused, Code.ATTRIBUTE_NOT_HELD, id="expired-same-updated-at"),
    pytest.param(_tamper, KeyRefused, Code.KEY_INVALID, id="sealed-bytes-tampered"),
    pytest.param(_schema_version, KeyRefused, Code.KEY_INVALID, id="schema-version-changed"),
]


def _counts(setup: Setup) -> tuple[int, ...]:
    return tuple(
        len(setup.wallet.db.fetch_all(select(table)))
        for table in (
            col(Consent.id),
            col(ConsentEvent.id),
            col(StatusAllocation.idx),
            col(Record.id),
        )
    )


@pytest.mark.parametrize(("change", "error", "code"), CASES)
def test_a_changed_credential_row_is_seen(
    setup: Setup,
    now: int,
    change: Callable[[Setup, int], None],
    error: type[RegieError],
    code: Code,
) -> None:
    do_grant(setup, now)
    do_grant(setup, now)  # positive control: granted again from the kept credentials
    change(setup, now)
    before = _counts(setup)
    with pytest.raises(error) as caught:
        consents.grant(setup.wallet, terms(), registry=setup.registry, now=now, host_url=HOST_URL)
    assert caught.value.code == code
    assert _counts(setup) == before


def test_a_new_credential_is_seen(setup: Setup, now: int) -> None:
    record = _holder(setup)
    do_grant(setup, now)
    setup.wallet.delete([record.id])
    with pytest.raises(ClaimRefused):
        do_grant(setup, now)
    setup.wallet.put(consents.CREDENTIAL_KIND, record.payload, now=now)
    assert do_grant(setup, now).status_list_id == "consents-1"


def test_the_first_grant_creates_one_pairwise_key_in_its_transaction(
    setup: Setup, now: int
) -> None:
    with pytest.raises(ClaimRefused):  # refused: no key is left behind
        do_grant(setup, now, t=terms(attributes=("income_by_year",)))
    assert setup.wallet.find(consents.PAIRWISE_KIND) == []
    first = do_grant(setup, now)
    again = do_grant(setup, now + 1)
    keys = setup.wallet.find(consents.PAIRWISE_KIND)
    assert len(keys) == 1 and first.claims.iss == again.claims.iss
    key = consents.pairwise_key(setup.wallet, terms().verifier_id, now=now, alg=Alg.EDDSA)
    assert key.public_key.thumbprint_uri() == first.claims.iss
