"""``regie audit verify --export DIR``: the good case, then the tamper table.

Each row of the table damages a real log in one way an operator might (or a
log might lie in one way), and expects exit 1 with the one line
``regie: <code>: <reason>`` whose reason names what failed. The trusted file
must not move forward on any failure.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from regie.cli_audit import audit_app
from regie_protocol.tlog import merkle
from regie_protocol.tlog.event import EventName, canonical, decode_event
from regie_protocol.tlog.note import CosignerKey, NoteKey

from .logs import DESK, ORIGIN, T0, Log, clean_events, ended, released, trusted_file

runner = CliRunner()


def run(*args: str | Path) -> Any:
    return runner.invoke(audit_app, [str(a) for a in args])


def verify(export: Path, trusted: Path, *extra: str | Path) -> Any:
    return run("verify", "--export", export, "--trusted", trusted, *extra)


def trusted_checkpoint(path: Path) -> str | None:
    value: str | None = json.loads(path.read_text())["checkpoint"]
    return value


# -- the good case first -------------------------------------------------------------------------


def test_a_clean_export_verifies_and_becomes_the_trusted_checkpoint(tmp_path: Path) -> None:
    log = Log(clean_events())
    export = log.export(tmp_path / "export")
    trusted = trusted_file(tmp_path / "trusted.json", log)

    result = verify(export, trusted)

    assert result.exit_code == 0, result.stderr
    assert "is intact" in result.stdout
    assert "Entries: 10 (10 events checked)" in result.stdout
    assert "First check" in result.stdout
    assert trusted_checkpoint(trusted) == log.checkpoint().decode()

    again = verify(export, trusted)
    assert again.exit_code == 0, again.stderr
    assert "Unchanged since your last check" in again.stdout


def test_a_grown_log_verifies_against_the_smaller_trusted_one(tmp_path: Path) -> None:
    log = Log(clean_events())
    trusted = trusted_file(tmp_path / "trusted.json", Log(log.events[:6], key=log.key))
    first = verify(Log(log.events[:6], key=log.key).export(tmp_path / "six"), trusted)
    assert first.exit_code == 0, first.stderr

    result = verify(log.export(tmp_path / "ten"), trusted)

    assert result.exit_code == 0, result.stderr
    assert "Grew from 6 to 10 entries" in result.stdout
    assert trusted_checkpoint(trusted) == log.checkpoint().decode()


def test_json_summary_hidden_events_older_checkpoints_receipts_and_witnesses(
    tmp_path: Path,
) -> None:
    witnesses = [CosignerKey.generate("witness.example/w1"), CosignerKey.generate("w2.example/w")]
    log = Log(clean_events())
    export = log.export(
        tmp_path / "export",
        checkpoint=log.checkpoint(cosigners=witnesses),
        hidden={0, 4},
        older=[log.checkpoint(3), log.checkpoint(7, cosigners=witnesses[:1])],
    )
    trusted = trusted_file(tmp_path / "t.json", log, witnesses=witnesses, quorum=2)
    receipt_old = tmp_path / "old.tlog-proof"
    receipt_old.write_text(log.receipt(2, 5).render())
    receipt_now = tmp_path / "now.tlog-proof"
    receipt_now.write_text(log.receipt(9).render())

    result = verify(export, trusted, "--receipt", receipt_old, "--receipt", receipt_now, "--json")

    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["ok"] is True
    assert summary["size"] == 10
    assert summary["root"] == merkle_root_b64(log)
    assert summary["eventsChecked"] == 8
    assert summary["hiddenEvents"] == 2
    assert summary["olderCheckpoints"] == 2
    assert summary["cosigners"] == sorted(w.name for w in witnesses)
    assert [(r["index"], r["size"]) for r in summary["receipts"]] == [(2, 5), (9, 10)]
    assert summary["previousSize"] is None


def merkle_root_b64(log: Log) -> str:
    import base64

    return base64.b64encode(log.root()).decode()


# -- the tamper table ----------------------------------------------------------------------------


@dataclass
class Setup:
    """What a tamper case produces: an export, a trusted file, extra arguments."""

    export: Path
    trusted: Path
    extra: list[str | Path] = field(default_factory=list)


def _lines(export: Path) -> list[bytes]:
    return (export / "events.jsonl").read_bytes().split(b"\n")[:-1]


def _write_lines(export: Path, lines: list[bytes]) -> None:
    (export / "events.jsonl").write_bytes(b"".join(line + b"\n" for line in lines))


def _base(tmp: Path, log: Log | None = None, **trust: Any) -> tuple[Log, Setup]:
    log = log or Log(clean_events())
    export = log.export(tmp / "export")
    return log, Setup(export, trusted_file(tmp / "trusted.json", log, **trust))


def event_changed(tmp: Path) -> Setup:
    _, setup = _base(tmp)
    lines = _lines(setup.export)
    lines[3] = released("c-1", T0 + 3600, 2, attributes=["address", "income"])
    _write_lines(setup.export, lines)
    return setup


def event_deleted(tmp: Path) -> Setup:
    _, setup = _base(tmp)
    lines = _lines(setup.export)
    del lines[3]
    _write_lines(setup.export, lines)
    return setup


def events_reordered(tmp: Path) -> Setup:
    _, setup = _base(tmp)
    lines = _lines(setup.export)
    lines[3], lines[4] = lines[4], lines[3]
    _write_lines(setup.export, lines)
    return setup


def event_inserted(tmp: Path) -> Setup:
    _, setup = _base(tmp)
    lines = _lines(setup.export)
    lines.insert(3, released("c-1", T0 + 200, 2))
    _write_lines(setup.export, lines)
    return setup


def event_and_its_leaf_hash_changed(tmp: Path) -> Setup:
    _, setup = _base(tmp)
    lines = _lines(setup.export)
    lines[3] = released("c-1", T0 + 3600, 2, attributes=["address", "income"])
    _write_lines(setup.export, lines)
    hashes = bytearray((setup.export / "leaf-hashes.bin").read_bytes())
    hashes[3 * 32 : 4 * 32] = merkle.leaf_hash(lines[3])
    (setup.export / "leaf-hashes.bin").write_bytes(bytes(hashes))
    return setup


def log_rolled_back(tmp: Path) -> Setup:
    log = Log(clean_events())
    older = Log(log.events[:8], key=log.key)
    export = older.export(tmp / "export")
    return Setup(export, trusted_file(tmp / "t.json", log, checkpoint=log.checkpoint()))


def tail_truncated(tmp: Path) -> Setup:
    _, setup = _base(tmp)
    _write_lines(setup.export, _lines(setup.export)[:-2])
    hashes = (setup.export / "leaf-hashes.bin").read_bytes()
    (setup.export / "leaf-hashes.bin").write_bytes(hashes[: 8 * 32])
    return setup


def events_tail_truncated(tmp: Path) -> Setup:
    _, setup = _base(tmp)
    _write_lines(setup.export, _lines(setup.export)[:-2])
    return setup


def header_disagrees(tmp: Path) -> Setup:
    log = Log(clean_events())
    export = log.export(tmp / "export", header={"size": 9})
    return Setup(export, trusted_file(tmp / "t.json", log))


def split_view(tmp: Path) -> Setup:
    log, setup = _base(tmp)
    other = Log(clean_events(), key=log.key)  # same key, same size, other events (fresh salts)
    trusted_file(setup.trusted, log, checkpoint=other.checkpoint())
    return setup


def forked_history(tmp: Path) -> Setup:
    log, setup = _base(tmp)
    other = Log([*log.events[:5], ended(EventName.REVOKED, "c-1", T0 + 50)], key=log.key)
    trusted_file(setup.trusted, log, checkpoint=other.checkpoint())
    return setup


def unknown_key(tmp: Path) -> Setup:
    log = Log(clean_events())
    impostor = NoteKey.generate(ORIGIN)
    export = log.export(tmp / "export", checkpoint=log.checkpoint(key=impostor))
    return Setup(export, trusted_file(tmp / "t.json", log))


def older_checkpoint_rewritten(tmp: Path) -> Setup:
    log = Log(clean_events())
    other = Log([*log.events[:4], ended(EventName.REVOKED, "c-1", T0 + 50)], key=log.key)
    export = log.export(tmp / "export", older=[log.checkpoint(3), other.checkpoint()])
    return Setup(export, trusted_file(tmp / "t.json", log))


def receipt_of_another_log(tmp: Path) -> Setup:
    _, setup = _base(tmp)
    stranger = Log(clean_events(), key=NoteKey.generate("elsewhere.example/log"))
    path = tmp / "stranger.tlog-proof"
    path.write_text(stranger.receipt(3).render())
    setup.extra = ["--receipt", path]
    return setup


def receipt_of_a_forked_log(tmp: Path) -> Setup:
    log, setup = _base(tmp)
    fork = Log([*log.events[:3], released("c-1", T0 + 150, 2), *log.events[4:]], key=log.key)
    path = tmp / "fork.tlog-proof"
    path.write_text(fork.receipt(3).render())
    setup.extra = ["--receipt", path]
    return setup


def receipt_with_a_wrong_proof(tmp: Path) -> Setup:
    from regie_protocol.tlog.receipt import Receipt

    log, setup = _base(tmp)
    good = log.receipt(3)
    bad = Receipt(index=4, proof=good.proof, checkpoint=good.checkpoint)
    path = tmp / "bad.tlog-proof"
    path.write_text(bad.render())
    setup.extra = ["--receipt", path]
    return setup


def receipt_newer_than_the_log(tmp: Path) -> Setup:
    log = Log(clean_events())
    export = Log(log.events[:8], key=log.key).export(tmp / "export")
    path = tmp / "newer.tlog-proof"
    path.write_text(log.receipt(3).render())
    return Setup(export, trusted_file(tmp / "t.json", log), ["--receipt", path])


def quorum_missing(tmp: Path) -> Setup:
    witness = CosignerKey.generate("witness.example/w1")
    _, setup = _base(tmp, witnesses=[witness], quorum=1)
    return setup


def forged_cosignature(tmp: Path) -> Setup:
    from regie_protocol.tlog.checkpoint import Checkpoint, with_cosignatures

    witness = CosignerKey.generate("witness.example/w1")
    log = Log(clean_events())
    other_body = Checkpoint(log.origin, 3, log.root(3)).body()
    forged = with_cosignatures(log.checkpoint(), [witness.cosign_line(other_body, T0)])
    export = log.export(tmp / "export", checkpoint=forged)
    return Setup(export, trusted_file(tmp / "t.json", log, witnesses=[witness], quorum=1))


def event_not_canonical(tmp: Path) -> Setup:
    events = clean_events()
    spaced = json.dumps(decode_event(events[2]), sort_keys=True).encode()  # ", " and ": "
    assert spaced != canonical(decode_event(events[2]))
    events[2] = spaced  # the log signed it: the hashes match, the decoding does not
    _, setup = _base(tmp, Log(events))
    return setup


TAMPER_TABLE: list[tuple[str, Callable[[Path], Setup], str, list[str]]] = [
    ("one event changed", event_changed, "log_event_mismatch", ["event 3", "changed"]),
    ("one event deleted", event_deleted, "log_event_mismatch", ["event 3", "removed"]),
    (
        "two events reordered",
        events_reordered,
        "log_event_mismatch",
        ["event 3", "event 4", "moved"],
    ),
    ("one event inserted", event_inserted, "log_event_mismatch", ["event 3", "added"]),
    (
        "an event and its leaf hash changed",
        event_and_its_leaf_hash_changed,
        "log_inconsistent",
        ["leaf hashes", "root of the signed checkpoint"],
    ),
    ("the log rolled back", log_rolled_back, "log_rollback", ["8 entries", "verified 10"]),
    ("the tail truncated", tail_truncated, "log_inconsistent", ["8 leaf hashes", "10 entries"]),
    ("the events' tail cut", events_tail_truncated, "log_event_mismatch", ["8 event lines", "10"]),
    ("log.json disagrees", header_disagrees, "log_inconsistent", ["9 entries", "10 entries"]),
    ("two checkpoints of one size", split_view, "log_split_view", ["two different trees", "10"]),
    ("a forked history", forked_history, "log_inconsistent", ["does not extend", "6 entries"]),
    (
        "signed by an unknown key",
        unknown_key,
        "key_unknown",
        ["latest checkpoint", "not signed by any trusted key"],
    ),
    (
        "an older checkpoint rewritten",
        older_checkpoint_rewritten,
        "log_inconsistent",
        ["older checkpoint 2", "5 entries"],
    ),
    (
        "a receipt from another log",
        receipt_of_another_log,
        "key_unknown",
        ["receipt", "elsewhere.example/log"],
    ),
    (
        "a receipt of a forked log",
        receipt_of_a_forked_log,
        "log_inconsistent",
        ["receipt", "10 entries", "never had"],
    ),
    (
        "a receipt with a wrong proof",
        receipt_with_a_wrong_proof,
        "log_proof_invalid",
        ["receipt", "entry 4 is not in the tree"],
    ),
    (
        "a receipt of a later tree",
        receipt_newer_than_the_log,
        "log_rollback",
        ["receipt", "10 entries", "8"],
    ),
    (
        "witness quorum missing",
        quorum_missing,
        "log_cosignature_missing",
        ["0 valid witness", "1 are required"],
    ),
    ("a forged cosignature", forged_cosignature, "signature_invalid", []),
    ("an event the log signed badly", event_not_canonical, "log_event_mismatch", ["event 2"]),
]


@pytest.mark.parametrize(
    ("make", "code", "words"),
    [pytest.param(make, code, words, id=name) for name, make, code, words in TAMPER_TABLE],
)
def test_tamper_is_detected(
    tmp_path: Path, make: Callable[[Path], Setup], code: str, words: list[str]
) -> None:
    setup = make(tmp_path)
    before = setup.trusted.read_bytes()

    result = verify(setup.export, setup.trusted, *setup.extra)

    assert result.exit_code == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"regie: {code}: "), lines[0]
    for word in words:
        assert word in lines[0], lines[0]
    assert "Traceback" not in result.stderr
    assert setup.trusted.read_bytes() == before  # a failed check never moves trust forward


def test_the_untampered_table_setups_pass(tmp_path: Path) -> None:
    """The table's base export, unharmed, verifies (so each row fails for its own damage)."""
    _, setup = _base(tmp_path)
    assert verify(setup.export, setup.trusted).exit_code == 0


# -- usage ---------------------------------------------------------------------------------------


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    log = Log(clean_events())
    export = log.export(tmp_path / "export")
    no_trust = run("verify", "--export", export, "--trusted", tmp_path / "none.json")
    assert no_trust.exit_code == 2
    assert "regie audit trust" in no_trust.stderr
    trusted = trusted_file(tmp_path / "t.json", log)
    both = run("verify", "--export", export, "--host", "https://h.example", "--trusted", trusted)
    assert both.exit_code == 2
    neither = run("verify", "--trusted", trusted)
    assert neither.exit_code == 2
    missing = run("verify", "--export", tmp_path / "nowhere", "--trusted", trusted)
    assert missing.exit_code == 2


def test_a_damaged_trusted_file_is_refused(tmp_path: Path) -> None:
    log = Log(clean_events())
    export = log.export(tmp_path / "export")
    trusted = trusted_file(tmp_path / "t.json", log)
    value = json.loads(trusted.read_text())
    value["extra"] = 1
    trusted.write_text(json.dumps(value))
    result = verify(export, trusted)
    assert result.exit_code == 1
    assert "trusted file is damaged" in result.stderr


def test_trust_writes_the_file_and_keeps_the_checkpoint_for_the_same_key(tmp_path: Path) -> None:
    log = Log(clean_events())
    witness = CosignerKey.generate("witness.example/w1")
    path = tmp_path / "audit" / "trusted.json"
    vkey = log.key.verifier().vkey()

    made = run(
        "trust", "--log-key", vkey, "--witness", witness.verifier().vkey(), "--trusted", path
    )

    assert made.exit_code == 0, made.stderr
    value = json.loads(path.read_text())
    assert value == {
        "format": "regie-audit-trust",
        "version": 1,
        "origin": ORIGIN,
        "logKey": vkey,
        "witnesses": [witness.verifier().vkey()],
        "witnessQuorum": 1,
        "checkpoint": None,
    }
    cosigned = log.checkpoint(cosigners=[witness])
    assert verify(log.export(tmp_path / "e", checkpoint=cosigned), path).exit_code == 0
    assert trusted_checkpoint(path) == cosigned.decode()

    again = run("trust", "--log-key", vkey, "--quorum", "0", "--trusted", path, "--json")
    assert again.exit_code == 0, again.stderr
    assert json.loads(again.stdout)["checkpointKept"] is True
    assert trusted_checkpoint(path) == cosigned.decode()

    other = NoteKey.generate("other.example/log").verifier().vkey()
    assert run("trust", "--log-key", other, "--trusted", path).exit_code == 0
    assert trusted_checkpoint(path) is None


def test_trust_refuses_bad_keys_and_quorums(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    log_vkey = NoteKey.generate(ORIGIN).verifier().vkey()
    assert run("trust", "--log-key", "not a key", "--trusted", path).exit_code == 1
    too_many = run("trust", "--log-key", log_vkey, "--quorum", "1", "--trusted", path)
    assert too_many.exit_code == 2
    assert "quorum" in too_many.stderr
    witness_as_log = CosignerKey.generate("w.example/w").verifier().vkey()
    assert run("trust", "--log-key", witness_as_log, "--trusted", path).exit_code == 2
    assert not path.exists()


def test_trust_defaults_to_the_home_directory(tmp_path: Path) -> None:
    vkey = NoteKey.generate(ORIGIN).verifier().vkey()
    result = run("trust", "--log-key", vkey, "--home", tmp_path)
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "audit" / "trusted.json").is_file()


def test_hostile_verifier_text_never_reaches_the_terminal_raw(tmp_path: Path) -> None:
    hostile = "https://x.example/\x1b[31m<script>\r\n"
    log = Log([released("c-9", T0, 1, verifier=hostile)], key=NoteKey.generate(ORIGIN))
    export = log.export(tmp_path / "e")
    result = verify(export, trusted_file(tmp_path / "t.json", log))
    assert result.exit_code == 0, result.stderr
    assert "\x1b" not in result.stdout
    _ = DESK
