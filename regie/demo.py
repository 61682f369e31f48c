"""``regie demo``: the whole story so far, end to end, on the embedded default.

Anna de Vries (a fictitious citizen of Utrecht, 67) sets up her wallet and
gets her personal data from the municipality's BRP as a credential bound to a
key on her own device. The parking-permit desk, registered for her address
only, asks her wallet host for it (a request for more is refused before she
sees it); Anna reads the request and says yes; the desk collects her consent
and reads her address: the host sends only ciphertext, the desk opens and
checks it. A replayed read is refused. Anna moves: her new address reaches the
desk without her doing anything. The old credential is revoked. Anna
withdraws her consent: the desk's next read is refused and its purge deletes
the address it kept and tells Anna's host so. A witness cosigns the host's
log; the Autoriteit Persoonsgegevens checks the log without trusting the host,
reads its report, checks the desk's receipt, and catches an edited entry.

Everything is real: keys, signatures, Argon2id and the sealed SQLite vault,
the issuer's state file, the wallet host's and the desk's databases and
files. The three services (the BRP's issuer, Anna's wallet host, the parking
desk) run their real ASGI apps **in-process**: each HTTP call goes through
``httpx.ASGITransport`` on the demo's small network
(:class:`~regie.demo_net.InProcessNetwork`); nothing listens on a port. One
clock (:class:`~regie.demo_net.DemoClock`) lets the story move time forward.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import time
from pathlib import Path

from issuer.sources import Source, with_derived_claims
from regie_protocol.keys import Alg, PublicKey, public_key_from_jwk
from regie_protocol.registry import Registry
from verifier.identity import VerifierIdentity
from wallet.core import UnlockedWallet, create_wallet, unlock_wallet
from wallet.credentials import receive
from wallet.holder_keys import new_holder_key
from wallet.registry_store import add_registry
from wallet.storage import Database, open_database
from wallet.trust import add_issuer
from wallet.vault import KdfFloor, VaultPassphrase

from .demo_asks import Scene, answer, ask, collect
from .demo_audit import audit
from .demo_net import DemoClock, InProcessNetwork, NetworkFetcher
from .demo_reads import read_and_stop
from .demo_story import Story, console_for, decode_credential
from .demo_world import (
    DESK_NAME,
    HOST_URL,
    PARKING_DESK,
    REGISTRAR,
    Brp,
    open_desk,
    registry_listing,
    start_brp,
    start_host,
)


def run_demo(*, plain: bool = False) -> None:
    """Tell the story on standard output; ``plain``: no colours, boxes or tables."""
    console = console_for(plain)
    story = Story(console, plain)
    clock = DemoClock(int(time.time()))
    net = InProcessNetwork()
    with tempfile.TemporaryDirectory(prefix="regie-demo-") as tmp:
        home = Path(tmp)
        brp = start_brp(home, net, clock)
        story.say(
            "The municipality gets ready",
            f"{brp.source.name} ({brp.source.issuer_id}) makes an Ed25519 signing key and "
            f"publishes it. Key id: {brp.key.kid}",
        )
        db = open_database(None, home=home / "anna")
        try:
            _tell(story, net, clock, brp, db, home)
        finally:
            db.dispose()
    console.print("\nThe demo kept nothing: its files were in a temporary folder.", markup=False)


def _tell(
    story: Story, net: InProcessNetwork, clock: DemoClock, brp: Brp, db: Database, home: Path
) -> None:
    wallet, holder = _set_up_wallet(story, db, now=clock.now)
    keys_by_issuer = _issuer_keys_over_http(story, net, brp.source)
    add_issuer(
        wallet,
        brp.source.issuer_id,
        {"keys": [k.to_jwk() for k in keys_by_issuer[brp.source.issuer_id].values()]},
        now=clock.now,
    )
    old_index = _issue_and_receive(
        story, brp, wallet, holder, net=net, now=clock.now, wallet_home=home / "anna"
    )
    identity = VerifierIdentity.generate(PARKING_DESK, DESK_NAME)
    registry = _list_the_desk(story, wallet, identity, now=clock.now)

    host_app = start_host(home / "anna", net, clock)
    desk = open_desk(home / "desk", net, clock, identity, keys_by_issuer)
    try:
        story.say(
            "Anna's wallet host goes online",
            f"Her wallet host ({HOST_URL}) answers services for her, also when her phone is "
            "off. It shares her wallet's database but not her passphrase: it can only hand "
            "out what Anna sealed. The desk trusts the host's public key and the BRP's keys.",
        )
        story.http(net.last("GET", HOST_URL + "/v1/keys"), by="the desk")
        scene = Scene(story, net, clock, brp, wallet, holder, registry, desk, home / "anna")
        request_id, claims = ask(scene)
        answer(scene, request_id)
        consent = collect(scene, request_id, claims)
        read_and_stop(scene, consent, old_index)
        audit(scene, host_app.state.host)
    finally:
        desk.close()
        host_app.state.host.db.dispose()


def _set_up_wallet(story: Story, db: Database, *, now: int) -> tuple[UnlockedWallet, PublicKey]:
    passphrase = VaultPassphrase("lantaarn oudegracht fiets molen")
    create_wallet(db, passphrase, now=now)
    wallet = unlock_wallet(db, passphrase, floor=KdfFloor.production())
    holder = new_holder_key(wallet, Alg.ES256, now=now)
    story.say(
        "Anna sets up her wallet",
        "Her wallet is a database on her own device. Everything in it is encrypted under "
        "a key that only her passphrase unlocks (Argon2id, then XChaCha20-Poly1305 per "
        "record). Her wallet makes a P-256 key (as EUDI wallets and Yivi do); only the "
        f"public half leaves the device. Holder key: {holder.thumbprint_uri()}",
    )
    return wallet, holder


def _list_the_desk(
    story: Story, wallet: UnlockedWallet, identity: VerifierIdentity, *, now: int
) -> Registry:
    registry, registrar = registry_listing(identity, now=now)
    add_registry(
        wallet, registry.sign(registrar), now=now, registrar_jwk=registrar.public_key.to_jwk()
    )
    story.say(
        "The scheme's registrar lists the parking desk",
        "The parking-permit desk makes two keys: one signs its requests and proofs, one "
        "receives data that only the desk can open (X25519). The registrar "
        f"({REGISTRAR}) signs a list of registered services with their keys. The desk is "
        "registered for one attribute, the address, for one purpose, providing the "
        "service. Anna's wallet trusts this list.",
    )
    story.pairs(
        "The desk's key ids",
        [
            ("Signing", identity.jkt),
            ("Encryption", identity.encryption_key.public_key.thumbprint()),
        ],
    )
    return registry


def _issue_and_receive(
    story: Story,
    brp: Brp,
    wallet: UnlockedWallet,
    holder: PublicKey,
    *,
    net: InProcessNetwork,
    now: int,
    wallet_home: Path,
) -> int:
    """The BRP issues Anna's credential; her wallet checks and keeps it. Its status index."""
    source = brp.source
    today = dt.datetime.fromtimestamp(now, dt.UTC).date()
    issued = brp.issue(with_derived_claims(source.ctype.vct, source.sample, today), holder, now=now)
    header, payload, disclosures = decode_credential(issued.token)
    story.say(
        "The BRP issues Anna's personal data",
        "The credential is an SD-JWT VC: the signed part holds only digests of the claims; "
        "each claim travels in a separate 'disclosure' that Anna may keep back. "
        "The BRP adds 'age_over_18' and 'age_over_65' itself, so a service need not see "
        f"her birth date. Status list index: {issued.status_index} (drawn at random).",
    )
    story.show("Header", header)
    story.show("Signed payload", payload)
    story.table(
        "Disclosures (salt, claim, value)",
        ["salt", "claim", "value"],
        [
            [
                d[0][:10] + "…",
                str(d[1]) if len(d) == 3 else "(array element)",
                json.dumps(d[-1], ensure_ascii=False),
            ]
            for d in disclosures
        ],
    )
    received = receive(wallet, issued.token, now=now, fetcher=NetworkFetcher(net.client()))
    on_disk = b"".join(
        path.read_bytes() for path in wallet_home.glob("wallet.sqlite3*") if path.is_file()
    )
    story.say(
        "Anna's wallet checks and keeps the credential",
        "Checked before storing: the BRP is trusted, the credential is bound to one of "
        "her keys, it has not expired, its status list says it is valid. "
        f"Stored encrypted as record {received.id}. Is 'Oudegracht' readable in the "
        f"wallet's database file? {'YES (wrong!)' if b'Oudegracht' in on_disk else 'No.'}",
    )
    return issued.status_index


def _issuer_keys_over_http(
    story: Story, net: InProcessNetwork, source: Source
) -> dict[str, dict[str, PublicKey]]:
    """Fetch the issuer's keys from its HTTP service, as a wallet or a verifier would."""
    answer = net.client().get(
        source.issuer_id + "/.well-known/jwt-vc-issuer", headers={"Accept": "application/json"}
    )
    metadata = answer.json()
    keys = {k["kid"]: public_key_from_jwk(k) for k in metadata["jwks"]["keys"]}
    story.say(
        "Anna's wallet fetches the BRP's published keys",
        f"It asks the BRP's service for its metadata and gets {len(keys)} key(s). Anna's "
        "wallet and every service that checks her data trust this issuer for this "
        "credential type; a token itself never chooses the key.",
    )
    story.http(answer)
    return {metadata["issuer"]: keys}


__all__ = ["decode_credential", "run_demo"]
