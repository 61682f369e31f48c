"""``regie demo``: the story so far, end to end, on the embedded default.

Anna de Vries (a fictitious citizen of Utrecht, 67) gets her personal data
from the municipality's BRP as a credential bound to a key on her own device.
She shows a service only that she is over 65 and where she lives, and the
service checks the source's signature, her key and the status list. Then
the municipality revokes the credential and the same check refuses it.

Everything is real: keys, signatures, the issuer's state file and its HTTP
service (called in-process through its ASGI app).
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

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from issuer.issuer import Issuer, new_state
from issuer.sources import CREDENTIAL_TYPES, SOURCES, with_derived_claims
from issuer.state import StateFile, write_private_file
from regie_protocol import sdjwt
from regie_protocol._encoding import b64url_decode
from regie_protocol.errors import RegieError
from regie_protocol.keys import Alg, PublicKey, SigningKey, Unprotected, public_key_from_jwk
from regie_protocol.statuslist import Status, verify_status_list


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

        anna_key = SigningKey.generate(Alg.ES256)
        story.say(
            "Anna's wallet makes a key",
            "Anna's wallet makes a P-256 key on her own device (as EUDI wallets and Yivi do). "
            "Only the public half leaves the device: the credential will be bound to it. "
            f"Holder key: {anna_key.public_key.thumbprint_uri()}",
        )

        claims = with_derived_claims(source.ctype.vct, source.sample, dt.date.today())
        with store.transaction() as state:
            issued = Issuer(state, brp_key, CREDENTIAL_TYPES).issue(
                vct=source.ctype.vct, claims=claims, holder=anna_key.public_key, now=now
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

        verifier_id = "https://ouderenpas.utrecht.example"
        nonce = "n-" + str(now)
        presentation = sdjwt.present(
            issued.token,
            disclose=["age_over_65", ("address", "locality")],
            holder_key=anna_key,
            audience=verifier_id,
            nonce=nonce,
            now=now,
        )
        story.say(
            "Anna shows only what is needed",
            f"The senior-pass desk ({verifier_id}) needs to know that Anna is over 65 and "
            "lives in Utrecht. Anna's wallet keeps everything else back and signs a key "
            "binding JWT for this desk and this nonce, so the presentation cannot be replayed "
            f"elsewhere. {len(presentation)} characters.",
        )

        keys_by_issuer = _issuer_keys_over_http(story, brp_key, store)

        def status(uri: str, idx: int) -> Status:
            with store.transaction() as state:
                token = Issuer(state, brp_key, CREDENTIAL_TYPES).status_list_token(now=now)
            return verify_status_list(
                token, keys=keys_by_issuer[source.issuer_id], uri=uri, now=now
            ).status(idx)

        def check() -> sdjwt.VerifiedSdJwt:
            return sdjwt.verify(
                presentation,
                issuer_keys=keys_by_issuer,
                key_binding=sdjwt.KeyBindingRequired(audience=verifier_id, nonce=nonce),
                status=status,
                now=now,
                accepted_vcts=[source.ctype.vct],
            )

        verified = check()
        story.say(
            "The desk checks and sees only what Anna chose",
            "Checked: the BRP's signature (key from its metadata, never from the token), every "
            "disclosure's digest, Anna's key binding (audience, nonce, sd_hash), the validity "
            "period and the status list.",
        )
        envelope = {"iss", "iat", "nbf", "exp", "vct", "cnf", "status"}
        story.show(
            "What the desk sees of Anna",
            {k: v for k, v in verified.claims.items() if k not in envelope},
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
    console.print("\nThe demo kept nothing: its files were in a temporary folder.", markup=False)


def _issuer_keys_over_http(
    story: _Story, brp_key: SigningKey, store: StateFile
) -> dict[str, dict[str, PublicKey]]:
    """Fetch the issuer's keys from its real ASGI app, as a verifier would over HTTP."""
    source = SOURCES["brp"]
    try:
        import httpx

        from issuer.app import create_app
        from issuer.settings import IssuerSettings
    except ImportError:  # pragma: no cover - the service ships with the package
        return {source.issuer_id: {brp_key.kid: brp_key.public_key}}
    key_file = store.path.parent / "brp-key.jwk"
    write_private_file(key_file, brp_key.export_private_jwk(protection=Unprotected()))
    settings = IssuerSettings(
        issuer_id=source.issuer_id,
        key_file=key_file,
        state_file=store.path,
        admin_token="demo-" + "x" * 40,
        dev=True,
    )
    transport = httpx.ASGITransport(app=create_app(settings))

    async def fetch() -> dict[str, Any]:
        async with httpx.AsyncClient(transport=transport, base_url=source.issuer_id) as client:
            answer = await client.get("/.well-known/jwt-vc-issuer")
            answer.raise_for_status()
            data: dict[str, Any] = answer.json()
            return data

    metadata = asyncio.run(fetch())
    keys = {k["kid"]: public_key_from_jwk(k) for k in metadata["jwks"]["keys"]}
    story.say(
        "The desk fetches the BRP's published keys",
        f"GET {source.issuer_id}/.well-known/jwt-vc-issuer answered with {len(keys)} key(s). "
        "The desk trusts this issuer for this credential type; the token itself never "
        "chooses the key.",
    )
    return {metadata["issuer"]: keys}


__all__ = ["decode_credential", "run_demo"]
