"""A child process for the crash and concurrency tests: grants and revocations, acknowledged.

``python crash_child.py HOME URL|- stream SEED`` grants and revokes until killed,
printing ``G <id> <list> <idx>`` after each committed grant and ``R <id>``
after each committed revocation (flushed: an acknowledged line means the commit
returned). ``... grants N SEED`` grants N consents and exits.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from tests.wallet.consents.helpers import HOST_URL, PASSPHRASE, SERVICE, VERIFIER
from wallet import consents
from wallet.core import unlock_wallet
from wallet.registry_store import load_registry
from wallet.storage import open_database
from wallet.vault import KdfFloor, VaultPassphrase

NOW = 1_790_000_000
ATTRIBUTES = ("age_over_65", "address.locality", "given_name", "age_over_18")


def main() -> None:
    home, url, mode, *rest = sys.argv[1:]
    db = open_database(None if url == "-" else url, home=Path(home))
    wallet = unlock_wallet(
        db, VaultPassphrase(PASSPHRASE), floor=KdfFloor.unsafe_accept_test_params()
    )
    registry = load_registry(wallet, now=NOW)
    rng = random.Random(int(rest[-1]))

    def grant() -> consents.GrantedConsent:
        chosen = tuple(rng.sample(ATTRIBUTES, rng.randint(1, len(ATTRIBUTES))))
        terms = consents.GrantTerms(
            verifier_id=VERIFIER, attributes=chosen, purpose=SERVICE, valid_for=30 * 86400
        )
        return consents.grant(wallet, terms, registry=registry, now=NOW, host_url=HOST_URL)

    out = sys.stdout
    if mode == "grants":
        for _ in range(int(rest[0])):
            g = grant()
            out.write(f"G {g.id} {g.status_list_id} {g.status_idx}\n")
            out.flush()
        return
    given = [view.id for view in consents.list_consents(wallet, now=NOW)]
    out.write("ready\n")
    out.flush()
    while True:
        if given and rng.random() < 0.35:
            consent_id = given.pop(rng.randrange(len(given)))
            consents.revoke(wallet, consent_id, now=NOW)
            out.write(f"R {consent_id}\n")
        else:
            g = grant()
            given.append(g.id)
            out.write(f"G {g.id} {g.status_list_id} {g.status_idx}\n")
        out.flush()


if __name__ == "__main__":
    main()
