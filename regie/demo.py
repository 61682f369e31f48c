"""``regie demo``: the story so far, end to end, on the embedded default.

Anna de Vries (a fictitious citizen of Utrecht, 67) sets up her wallet, gets
her personal data from the municipality's BRP as a credential bound to a key
on her own device, and her wallet keeps it encrypted. She gives the parking
permit desk a consent for her address and nothing else (a request for more is
refused), shows the desk only her address, then withdraws the consent; the
municipality revokes the credential and the same check refuses it.

Everything is real: keys, signatures, Argon2id and the sealed SQLite vault,
the issuer's state file and its HTTP service (called in-process through its
ASGI app).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from issuer.app import create_app
from issuer.issuer import Issuer, new_state
from issuer.settings import IssuerSettings
from issuer.sources import CREDENTIAL_TYPES, SOURCES, with_derived_claims
from issuer.state import StateFile, write_private_file
from regie_protocol import sdjwt, vocab
from regie_protocol._encoding import b64url_decode
from regie_protocol.errors import RegieError
from regie_protocol.keys import Alg, PublicKey, SigningKey, Unprotected, public_key_from_jwk
from regie_protocol.registry import RegisteredVerifier, Registry
from regie_protocol.statuslist import Status, verify_status_list
from wallet.config import DEFAULT_HOST_URL
from wallet.consents import GrantTerms, grant, history, revoke, status_of
from wallet.core import create_wallet, unlock_wallet
from wallet.credentials import receive
from wallet.holder_keys import holder_key as wallet_holder_key
from wallet.holder_keys import new_holder_key
from wallet.registry_store import add_registry, load_registry
from wallet.storage import open_database
from wallet.trust import add_issuer
from wallet.vault import KdfFloor, VaultPassphrase


class _Story:
    def __init__(self, console: Console, plain: bool) -> None:
        self.console = console
        self.plain = plain
        self.step = 0

    def say(self, title: str, text: str) -> None:
        self.step += 1
        if self.plain:
            self.console.print(f"\nStep {self.step}. {title}\n{text}", markup=False)
        else:
            self.console.print(Panel(text, title=f"Step {self.step}. {title}", expand=False))

    def show(self, title: str, value: Any) -> None:
        text = json.dumps(value, indent=2, ensure_ascii=False)
        self.console.print(f"{title}:", markup=False)
        self.console.print(text, markup=False, highlight=not self.plain)

    def table(self, title: str, columns: list[str], rows: list[list[str]]) -> None:
        if self.plain:
            self.console.print(f"{title}:", markup=False)
            for row in rows:
                self.console.print(
                    "  " + "; ".join(f"{c}: {v}" for c, v in zip(columns, row, strict=True)),
                    markup=False,
                )
            return
        table = Table(title=title)
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*row)
        self.console.print(table)


def decode_credential(token: str) -> tuple[Mapping[str, Any], Mapping[str, Any], list[list[Any]]]:
    """Header, payload and disclosures of an SD-JWT, decoded for reading (not verified)."""
    jwt_part, *rest = token.split("~")
    header_b64, payload_b64, _ = jwt_part.split(".")
    header = json.loads(b64url_decode(header_b64))
    payload = json.loads(b64url_decode(payload_b64))
    disclosures = [json.loads(b64url_decode(d)) for d in rest if d and "." not in d]
    return header, payload, disclosures


class _AsgiFetcher:
    """The wallet's fetcher for the demo: GETs go to the issuer's real ASGI app in-process."""

    def __init__(self, transport: httpx.ASGITransport) -> None:
        self._transport = transport

    def get(self, url: str, *, accept: str, max_bytes: int) -> bytes:
        async def fetch() -> bytes:
            async with httpx.AsyncClient(transport=self._transport) as client:
                answer = await client.get(url, headers={"Accept": accept})
                answer.raise_for_status()
                return answer.content[: max_bytes + 1]

        return asyncio.run(fetch())


PARKING_DESK = "https://parkeren.gemeente-utrecht.example"
REGISTRAR = "https://registrar.regie.example"


def run_demo(*, plain: bool = False) -> None:
    console = Console(no_color=plain, highlight=not plain)
    story = _Story(console, plain)
    source = SOURCES["brp"]
    now = int(time.time())
    with tempfile.TemporaryDirectory(prefix="regie-demo-") as tmp:
        home = Path(tmp)
        store = StateFile(home / "issuers" / "brp.json")
        store.create(new_state(source.issuer_id))
        brp_key = SigningKey.generate(Alg.EDDSA)
        story.say(
            "The municipality gets ready",
            f"{source.name} ({source.issuer_id}) makes an Ed25519 signing key and publishes it. "
            f"Key id: {brp_key.kid}",
        )
        transport = _issuer_transport(brp_key, store)

        db = open_database(None, home=home / "anna")
        passphrase = VaultPassphrase("lantaarn oudegracht fiets molen")
        create_wallet(db, passphrase, now=now)
        wallet = unlock_wallet(db, passphrase, floor=KdfFloor.production())
        anna_public = new_holder_key(wallet, Alg.ES256, now=now)
        story.say(
            "Anna sets up her wallet",
            "Her wallet is a database on her own device. Everything in it is encrypted under a "
            "key that only her passphrase unlocks (Argon2id, then XChaCha20-Poly1305 per "
            "record). Her wallet makes a P-256 key (as EUDI wallets and Yivi do); only the "
            f"public half leaves the device. Holder key: {anna_public.thumbprint_uri()}",
        )

        keys_by_issuer = _issuer_keys_over_http(story, transport)
        add_issuer(
            wallet,
            source.issuer_id,
            {"keys": [k.to_jwk() for k in keys_by_issuer[source.issuer_id].values()]},
            now=now,
        )

        claims = with_derived_claims(source.ctype.vct, source.sample, dt.date.today())
        with store.transaction() as state:
            issued = Issuer(state, brp_key, CREDENTIAL_TYPES).issue(
                vct=source.ctype.vct, claims=claims, holder=anna_public, now=now
            )
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

        received = receive(wallet, issued.token, now=now, fetcher=_AsgiFetcher(transport))
        on_disk = b"".join(
            path.read_bytes() for path in (home / "anna").glob("wallet.sqlite3*") if path.is_file()
        )
        story.say(
            "Anna's wallet checks and keeps the credential",
            "Checked before storing: the BRP is trusted, the credential is bound to one of "
            "her keys, it has not expired, its status list says it is valid. "
            f"Stored encrypted as record {received.id}. Is 'Oudegracht' readable in the "
            f"wallet's database file? {'YES (wrong!)' if b'Oudegracht' in on_disk else 'No.'}",
        )

        registrar_key = SigningKey.generate(Alg.EDDSA)
        desk_key = SigningKey.generate(Alg.EDDSA)
        desk = RegisteredVerifier(
            id=PARKING_DESK,
            name="Gemeente Utrecht — Parkeervergunningen",
            signing_keys=(desk_key.public_key,),
            attributes=frozenset({"address"}),
            purposes=frozenset({vocab.DPV + "ServiceProvision"}),
        )
        registry = Registry.new(REGISTRAR, now=now).with_verifier(desk, now=now)
        add_registry(
            wallet,
            registry.sign(registrar_key),
            now=now,
            registrar_jwk=registrar_key.public_key.to_jwk(),
        )
        story.say(
            "The scheme's registrar lists the parking desk",
            f"The registrar ({REGISTRAR}) signs a list of registered services. The parking "
            "permit desk is registered for one attribute, the address, for one purpose, "
            "providing the service. Anna's wallet trusts this list.",
        )

        terms = GrantTerms(
            verifier_id=PARKING_DESK,
            attributes=("address",),
            purpose=vocab.DPV + "ServiceProvision",
            valid_for=30 * 86400,
            legal_basis=vocab.GDPR + "A6-1-e",
        )
        loaded = load_registry(wallet, now=now)
        granted = grant(wallet, terms, registry=loaded, now=now, host_url=DEFAULT_HOST_URL)
        story.say(
            "Anna gives the parking desk her consent",
            "For 30 days the desk may read her address, and nothing else. The consent is a "
            "token signed by a key Anna's wallet uses for this desk only, so two services "
            "cannot link her by it. The legal basis says this is a public task "
            f"(GDPR Art. 6(1)(e)). Consent id: {granted.id}",
        )
        story.show("Consent token (signed claims)", granted.claims.to_json())
        try:
            grant(
                wallet,
                GrantTerms(
                    verifier_id=PARKING_DESK,
                    attributes=("address", "birthdate"),
                    purpose=vocab.DPV + "ServiceProvision",
                    valid_for=30 * 86400,
                ),
                registry=loaded,
                now=now,
                host_url=DEFAULT_HOST_URL,
            )
        except RegieError as exc:
            asked_more = f"Refused before anything was stored: {exc}"
        else:  # pragma: no cover - the demo would be wrong
            raise SystemExit("a grant beyond the registration was accepted")
        story.say("The desk asks for more than it may", asked_more)

        presentation = sdjwt.present(
            issued.token,
            disclose=["address"],
            holder_key=wallet_holder_key(wallet, anna_public.thumbprint()),
            audience=PARKING_DESK,
            nonce="n-" + str(now),
            now=now,
        )

        def status(uri: str, idx: int) -> Status:
            token = _AsgiFetcher(transport).get(
                uri, accept="application/statuslist+jwt", max_bytes=1 << 20
            )
            return verify_status_list(
                token, keys=keys_by_issuer[source.issuer_id], uri=uri, now=now
            ).status(idx)

        def check() -> sdjwt.VerifiedSdJwt:
            return sdjwt.verify(
                presentation,
                issuer_keys=keys_by_issuer,
                key_binding=sdjwt.KeyBindingRequired(audience=PARKING_DESK, nonce="n-" + str(now)),
                status=status,
                now=now,
                accepted_vcts=[source.ctype.vct],
            )

        verified = check()
        envelope = {"iss", "iat", "nbf", "exp", "vct", "cnf", "status"}
        story.say(
            "Anna shows her address, and only that",
            "Her wallet keeps every other claim back and signs a key binding JWT for this desk "
            "and this nonce, so the presentation cannot be replayed elsewhere. The desk checks "
            "the BRP's signature (key from its metadata, never from the token), every "
            "disclosure's digest, the key binding, the validity period and the status list.",
        )
        story.show(
            "What the desk sees of Anna",
            {k: v for k, v in verified.claims.items() if k not in envelope},
        )

        withdrawn = revoke(wallet, granted.id, now=now)
        story.say(
            "Anna withdraws her consent",
            "Withdrawing is one step, as easy as giving. The consent's bit in the wallet "
            f"host's status list is set at once. State now: {withdrawn.state.value}; status "
            f"bit: {status_of(wallet, withdrawn)} (1 = no longer valid).",
        )
        story.table(
            "Consent history",
            ["when", "event"],
            [[_when(e.at), e.name] for e in history(wallet, granted.id, now=now)],
        )

        with store.transaction() as state:
            Issuer(state, brp_key, CREDENTIAL_TYPES).set_status(issued.status_index, Status.INVALID)
        try:
            check()
        except RegieError as exc:
            outcome = f"Refused, as it should be: {exc}"
        else:  # pragma: no cover - the demo would be wrong
            raise SystemExit("the revoked credential was accepted")
        story.say(
            "The municipality revokes the credential",
            "The BRP sets the credential's bit in its status list. The same presentation is "
            f"checked again. {outcome}",
        )
        db.dispose()
    console.print("\nThe demo kept nothing: its files were in a temporary folder.", markup=False)


def _issuer_transport(brp_key: SigningKey, store: StateFile) -> httpx.ASGITransport:
    """The BRP's real HTTP service, reached in-process."""
    source = SOURCES["brp"]
    key_file = store.path.parent / "brp-key.jwk"
    write_private_file(key_file, brp_key.export_private_jwk(protection=Unprotected()))
    settings = IssuerSettings(
        issuer_id=source.issuer_id,
        key_file=key_file,
        state_file=store.path,
        admin_token="demo-" + "x" * 40,
        dev=True,
    )
    return httpx.ASGITransport(app=create_app(settings))


def _issuer_keys_over_http(
    story: _Story, transport: httpx.ASGITransport
) -> dict[str, dict[str, PublicKey]]:
    """Fetch the issuer's keys from its HTTP service, as a wallet or a verifier would."""
    source = SOURCES["brp"]
    body = _AsgiFetcher(transport).get(
        source.issuer_id + "/.well-known/jwt-vc-issuer",
        accept="application/json",
        max_bytes=1 << 16,
    )
    metadata = json.loads(body)
    keys = {k["kid"]: public_key_from_jwk(k) for k in metadata["jwks"]["keys"]}
    story.say(
        "Anna's wallet fetches the BRP's published keys",
        f"GET {source.issuer_id}/.well-known/jwt-vc-issuer answered with {len(keys)} key(s). "
        "Anna's wallet and every service that checks her data trust this issuer for this "
        "credential type; a token itself never chooses the key.",
    )
    return {metadata["issuer"]: keys}


def _when(epoch: int) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


__all__ = ["decode_credential", "run_demo"]
