"""The witness key file: 0600, never overwritten, refused when exposed or damaged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audit.witness.keys import create_witness_key, load_witness_key
from regie_protocol.errors import Code, KeyRefused, Misuse


def test_a_key_round_trips_through_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "witness.key"
    key = create_witness_key(path, "witness.example/w1")
    assert path.stat().st_mode & 0o777 == 0o600
    loaded = load_witness_key(path)
    assert loaded.verifier() == key.verifier()
    assert loaded.verifier().sig_type == 0x04
    assert loaded.seed == key.seed
    assert key.seed.hex() not in repr(loaded)


def test_a_key_file_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "witness.key"
    first = create_witness_key(path, "witness.example/w1")
    with pytest.raises(Misuse):
        create_witness_key(path, "witness.example/w1")
    assert load_witness_key(path).seed == first.seed


def test_an_exposed_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "witness.key"
    create_witness_key(path, "witness.example/w1")
    path.chmod(0o644)
    with pytest.raises(KeyRefused) as refused:
        load_witness_key(path)
    assert refused.value.code is Code.KEY_FILE_EXPOSED


def test_a_missing_key_file_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(Misuse, match="keygen"):
        load_witness_key(tmp_path / "absent.key")


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda d: d.update(vkey=d["vkey"].replace("w1+", "w2+")), "vkey does not match"),
        (lambda d: d.update(name="witness.example/w2"), "vkey does not match"),
        (lambda d: d.update(seed="AAAA"), "seed is 3 bytes"),
        (lambda d: d.update(seed="not base64!"), "not base64"),
        (lambda d: d.update(version=2), "version 2"),
        (lambda d: d.update(extra=1), "members"),
    ],
    ids=["vkey", "name", "short seed", "seed encoding", "version", "unknown member"],
)
def test_a_damaged_key_file_is_refused(tmp_path: Path, change: object, why: str) -> None:
    path = tmp_path / "witness.key"
    create_witness_key(path, "witness.example/w1")
    document = json.loads(path.read_text())
    assert callable(change)
    change(document)
    path.write_text(json.dumps(document))
    with pytest.raises(KeyRefused, match=why):
        load_witness_key(path)
