"""The log key: its own private file (0600), created once, refused when exposed or foreign."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from regie_protocol.errors import Code, KeyRefused, Misuse
from regie_protocol.keys import Alg, SigningKey, Unprotected
from regie_protocol.tlog.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from regie_protocol.tlog.merkle import EMPTY_ROOT
from wallet.host.host_key import create_host_key
from wallet.log.keys import create_log_key, load_log_key, load_or_create_log_key

ORIGIN = "wallet.example/log"


def test_a_created_key_loads_back_and_signs_checkpoints(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "log-key.jwk"
    key, created = load_or_create_log_key(path, ORIGIN)
    assert created
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again, created = load_or_create_log_key(path, ORIGIN)
    assert not created
    assert again.verifier() == key.verifier() and again.name == ORIGIN
    note = sign_checkpoint(Checkpoint(ORIGIN, 0, EMPTY_ROOT), again)
    assert open_checkpoint(note, key.verifier()).checkpoint.size == 0
    jwk = json.loads(path.read_text())
    assert (jwk["kty"], jwk["crv"], jwk["regie_purpose"]) == ("OKP", "Ed25519", "log")
    assert repr(key).count(ORIGIN) == 1 and jwk["d"] not in repr(key)


def test_a_key_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "log-key.jwk"
    create_log_key(path, ORIGIN)
    before = path.read_bytes()
    with pytest.raises(Misuse, match="never overwritten"):
        create_log_key(path, ORIGIN)
    assert path.read_bytes() == before


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "log-key.jwk"
    create_log_key(path, ORIGIN)
    path.chmod(0o644)
    with pytest.raises(KeyRefused) as refused:
        load_log_key(path, ORIGIN)
    assert refused.value.code is Code.KEY_FILE_EXPOSED


def test_the_host_key_is_not_a_log_key(tmp_path: Path) -> None:
    path = tmp_path / "host-key.jwk"
    create_host_key(path)
    with pytest.raises(KeyRefused, match="not a log key"):
        load_log_key(path, ORIGIN)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(Misuse, match="does not exist"):
        load_log_key(tmp_path / "nothing.jwk", ORIGIN)


@pytest.mark.parametrize(
    "change",
    [
        lambda jwk: jwk.update(SigningKey.generate(Alg.ES256)._private_jwk()),
        lambda jwk: jwk.update(x=SigningKey.generate()._private_jwk()["x"]),
        lambda jwk: jwk.update(d="AAAA"),
    ],
    ids=["p-256", "public-part-of-another-key", "short-seed"],
)
def test_a_malformed_key_file_is_refused(tmp_path: Path, change: object) -> None:
    path = tmp_path / "log-key.jwk"
    key = SigningKey.generate()
    jwk = json.loads(key.export_private_jwk(protection=Unprotected()))
    jwk["regie_purpose"] = "log"
    change(jwk)  # type: ignore[operator]
    path.write_text(json.dumps(jwk))
    path.chmod(0o600)
    with pytest.raises(KeyRefused):
        load_log_key(path, ORIGIN)
