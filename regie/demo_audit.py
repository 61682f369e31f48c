"""``regie demo``, the audit: what the host's tamper-evident log shows, and that it cannot lie.

After Anna withdrew her consent and the desk purged her address: a witness
cosigns the log's checkpoint; the Autoriteit Persoonsgegevens (an auditor
with a key Anna's host registered) copies the log, verifies every entry and
signature against the log key it got out of band, and reads the report (no
violation; one service read her address, for one purpose). The desk's
receipt for its first read checks out offline. Then someone edits one event
in a copy of the log, and the auditor's check names the entry.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from audit.export import write_export
from audit.report import Analyser, report_document
from audit.report_html import render_html
from audit.source import ExportSource, HostSource
from audit.trusted import TrustPolicy
from audit.verify import read_event, verify_log
from audit.witness.app import create_app as create_witness_app
from audit.witness.service import Witness as WitnessService
from audit.witness.store import WitnessStore
from regie_protocol.errors import RegieError
from regie_protocol.keys import Alg, SigningKey
from regie_protocol.tlog.event import EventView
from regie_protocol.tlog.merkle import leaf_hash
from regie_protocol.tlog.note import CosignerKey
from regie_protocol.tlog.receipt import Receipt, verify_receipt
from wallet.host.service import HostService
from wallet.host.witnessing import Witness
from wallet.log.access import add_reader
from wallet.log.history import read_receipts
from wallet.storage import LogReaderRole

from .demo_asks import Scene
from .demo_story import when
from .demo_world import HOST_URL

WITNESS_URL = "https://witness.regie.example"
AUDITOR = "Autoriteit Persoonsgegevens"


def _witness(scene: Scene, host: HostService, folder: Path) -> CosignerKey:
    cosigner = CosignerKey.generate("witness.regie.example/w1")
    store = WitnessStore.open(folder / "witness.sqlite3")
    store.trust_log(host.log.key.verifier(), now=scene.clock.now)
    app = create_witness_app(WitnessService(cosigner, store, scene.clock), base_url=WITNESS_URL)
    scene.net.serve(WITNESS_URL, app)
    host.log.witnesses = (Witness(WITNESS_URL, cosigner.verifier()),)
    host.log.http = scene.net.client()
    host.log.sign_now(now=scene.clock.now)
    scene.story.say(
        "A witness cosigns the log",
        "Every grant, withdrawal, read and refusal at Anna's wallet host is an entry in a "
        "tamper-evident log (a Merkle tree, RFC 9162). The host signs a checkpoint of it: "
        "its size and root hash. An independent witness checks that each new checkpoint "
        "extends the last one it saw, and only then cosigns it, so the host cannot show "
        "different histories to different people.",
    )
    scene.story.http(scene.net.last("POST", WITNESS_URL + "/add-checkpoint"), by="the host")
    return cosigner


def _auditor_key(scene: Scene, host: HostService) -> SigningKey:
    key = SigningKey.generate(Alg.EDDSA)
    host.db.run(
        lambda conn: add_reader(
            conn,
            jwk=key.public_key.to_jwk(),
            role=LogReaderRole.AUDITOR,
            name=AUDITOR,
            now=scene.clock.now,
        )
    )
    return key


def _first_receipt(scene: Scene) -> str | None:
    """The receipt in the host's answer to the desk's first read (from the wire tap)."""
    for response in scene.net.exchanges:
        request = response.request
        read = request.method == "POST" and str(request.url) == HOST_URL + "/v1/data"
        if read and response.status_code == 200:
            receipt = response.json().get("receipt")
            return receipt if isinstance(receipt, str) else None
    return None


def audit(scene: Scene, host: HostService) -> None:
    """The audit chapter of the story."""
    with tempfile.TemporaryDirectory(prefix="regie-demo-audit-") as tmp:
        folder = Path(tmp)
        cosigner = _witness(scene, host, folder)
        policy = TrustPolicy(host.log.key.verifier(), (cosigner.verifier(),), 1)
        key = _auditor_key(scene, host)
        with scene.net.client() as http:
            source = HostSource(HOST_URL, client=http, key=key, clock=scene.clock)
            head, visible = write_export(source, folder / "log")
        analyser = Analyser()
        result = verify_log(
            ExportSource(folder / "log"),
            policy,
            decode=False,
            on_event=lambda index, data: analyser.add(read_event(index, data)),
        )
        found = analyser.finish(now=scene.clock.now)
        scene.story.say(
            f"The {AUDITOR} checks the log",
            f"The {AUDITOR} got the log's key and the witness's key from Anna's host out "
            "of band; the host registered the auditor's key. The auditor copies the log "
            f"({head.size} entries, {visible} of them readable with its key) and checks it "
            "without trusting the host: every entry hashes into the signed root, the "
            "checkpoint carries the log's signature and the witness's cosignature. "
            f"Verified: {result.size} entries, cosigned by {', '.join(result.cosigners)}.",
        )
        scene.story.table(
            "The log (names and ids only, never values; Anna is a pseudonym)",
            ["#", "when", "event", "attributes", "why"],
            [
                [
                    str(e.index),
                    when(e.at),
                    e.name.value,
                    ", ".join(e.attributes) or "-",
                    e.refusal_type or "-",
                ]
                for e in _events(folder / "log")
            ],
        )
        document = report_document(found, result.to_json())
        reads = ", ".join(f"{t.name}: {t.count}" for t in found.reads_by_verifier) or "none"
        scene.story.line(
            f"The report: {len(found.violations)} violations. Reads per service: {reads}. "
            f"Purposes: {', '.join(t.name for t in found.reads_by_purpose)}."
        )
        (folder / "report.html").write_text(render_html(found, result.to_json()), "utf-8")
        assert document["violations"] == [], document["violations"]
        first_receipt = _first_receipt(scene)
        if first_receipt is not None:
            _receipt(scene, folder / "log", first_receipt, policy)
        _tamper(scene, folder / "log", policy)


def _events(directory: Path) -> list[EventView]:
    lines = (directory / "events.jsonl").read_bytes().split(b"\n")
    return [read_event(i, line) for i, line in enumerate(lines) if line]


def _receipt(scene: Scene, directory: Path, text: str, policy: TrustPolicy) -> None:
    receipt = Receipt.parse(text)
    lines = (directory / "events.jsonl").read_bytes().split(b"\n")
    opened = verify_receipt(receipt, leaf_hash=leaf_hash(lines[receipt.index]), log=policy.log)
    scene.story.say(
        "The desk's receipt proves its read",
        "With its first read, the host gave the desk a receipt (a C2SP tlog-proof): the "
        "read's place in the log, a short proof, and a signed checkpoint. Anyone checks it "
        f"offline with the log's key: entry {receipt.index} is in the log of "
        f"{opened.checkpoint.size} entries. The desk can show what it was given; Anna's "
        "history shows the same receipts, checked on her device:",
    )
    reads = read_receipts(scene.wallet.db, scene.wallet.owner, log=policy.log)
    scene.story.table(
        "Anna's reads and their receipts",
        ["when", "service", "use", "log entry", "receipt"],
        [
            [
                when(r.at),
                r.verifier,
                str(r.use),
                str(r.index),
                "checked" if r.checked else "does not check out",
            ]
            for r in reads
        ],
    )


def _tamper(scene: Scene, directory: Path, policy: TrustPolicy) -> None:
    events = directory / "events.jsonl"
    lines = events.read_bytes().split(b"\n")
    first_read = next(i for i, line in enumerate(lines) if b'"data.released"' in line)
    lines[first_read] = lines[first_read].replace(b'"address"', b'"income"', 1)
    events.write_bytes(b"\n".join(lines))
    try:
        verify_log(ExportSource(directory), policy, decode=True)
    except RegieError as exc:
        outcome = f"Refused: {exc}"
    else:  # pragma: no cover - the demo would be wrong
        raise SystemExit("an edited log passed verification")
    scene.story.say(
        "An edited log is caught",
        "Someone changes one entry in a copy of the log, so that it seems the desk read "
        "Anna's income instead of her address. The auditor's check names the entry. " + outcome,
    )


__all__ = ["audit"]
