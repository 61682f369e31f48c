"""Checkpoints (C2SP tlog-checkpoint): the exact shape, sign and open, and what is refused."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest

from regie_protocol.errors import (
    Code,
    LogRefused,
    MalformedInput,
    Misuse,
    RegieError,
    SignatureRefused,
)
from regie_protocol.tlog.checkpoint import (
    Checkpoint,
    open_checkpoint,
    sign_checkpoint,
    with_cosignatures,
)
from regie_protocol.tlog.merkle import EMPTY_ROOT
from regie_protocol.tlog.note import CosignerKey, NoteKey, parse_note

ORIGIN = "wallet.example/log"
LOG = NoteKey(ORIGIN, bytes(range(32)))
OTHER_LOG = NoteKey("other.example/log", bytes(range(1, 33)))
# a key with the log's name that is not the log's key
IMPOSTOR = NoteKey(ORIGIN, bytes(range(2, 34)))
W1 = CosignerKey("witness.example/w1", bytes(range(3, 35)))
W2 = CosignerKey("witness.example/w2", bytes(range(4, 36)))
W3 = CosignerKey("witness.example/w3", bytes(range(5, 37)))
ROOT = hashlib.sha256(b"a root").digest()
CP = Checkpoint(ORIGIN, 20852163, ROOT)
BODY = CP.body()
WITNESSES = [W1.verifier(), W2.verifier(), W3.verifier()]

# c2sp.org/tlog-checkpoint, the example (the log signature and a witness cosignature)
SPEC_CHECKPOINT = (
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q"
    "1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2"
    "oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
).encode()


def _signed(body: bytes, *extra_lines: str, key: NoteKey = LOG) -> bytes:
    return body + b"\n" + key.sign_line(body).encode() + "".join(extra_lines).encode()


def test_body_is_the_c2sp_shape() -> None:
    root_b64 = base64.b64encode(ROOT).decode()
    assert CP.body() == f"wallet.example/log\n20852163\n{root_b64}\n".encode()
    assert Checkpoint.parse_body(BODY) == CP


def test_spec_example_parses() -> None:
    note = parse_note(SPEC_CHECKPOINT)
    checkpoint = Checkpoint.parse_body(note.text)
    assert checkpoint.origin == "example.com/behind-the-sofa"
    assert checkpoint.size == 20852163
    assert checkpoint.root == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert checkpoint.body() == note.text
    log_sig, witness_sig = note.signatures
    assert len(log_sig.signature) == 64  # Ed25519
    assert len(witness_sig.signature) == 72  # timestamp and Ed25519


def test_sign_and_open_round_trip() -> None:
    note = sign_checkpoint(CP, LOG)
    assert note.startswith(BODY + b"\n\xe2\x80\x94 wallet.example/log ")
    opened = open_checkpoint(note, LOG.verifier())
    assert opened.checkpoint == CP
    assert opened.note.text == BODY
    assert opened.cosigned_by == {}


def test_empty_tree() -> None:
    empty = Checkpoint(ORIGIN, 0, EMPTY_ROOT)
    assert open_checkpoint(sign_checkpoint(empty, LOG), LOG.verifier()).checkpoint == empty


def test_witness_cosignatures_and_quorum() -> None:
    note = sign_checkpoint(CP, LOG)
    cosigned = with_cosignatures(note, [W1.cosign_line(BODY, 100), W2.cosign_line(BODY, 200)])
    opened = open_checkpoint(cosigned, LOG.verifier(), witnesses=WITNESSES, quorum=2)
    assert opened.checkpoint == CP
    assert opened.cosigned_by == {W1.verifier(): 100, W2.verifier(): 200}
    # the log alone still opens it; witnesses the caller does not list are ignored
    assert open_checkpoint(cosigned, LOG.verifier()).cosigned_by == {}


def test_with_cosignatures_skips_keys_already_there() -> None:
    note = sign_checkpoint(CP, LOG)
    line = W1.cosign_line(BODY, 100)
    once = with_cosignatures(note, [line])
    assert with_cosignatures(once, [line, W1.cosign_line(BODY, 101)]) == once
    assert with_cosignatures(note, []) == note
    assert len(parse_note(with_cosignatures(once, [W2.cosign_line(BODY, 5)])).signatures) == 3


def test_with_cosignatures_refuses_a_malformed_line() -> None:
    with pytest.raises(MalformedInput):
        with_cosignatures(sign_checkpoint(CP, LOG), ["- witness.example/w1 AAAA\n"])


def _root_b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


R = _root_b64(ROOT)
BAD_W1 = W1.cosign_line(BODY, 100)
_raw = base64.b64decode(BAD_W1.rstrip("\n").split(" ")[2])
FORGED_W1 = f"— witness.example/w1 {_root_b64(_raw[:-1] + bytes([_raw[-1] ^ 1]))}\n"


def _case(name: str, data: bytes, error: type[RegieError], code: Code, quorum: int = 0) -> Any:
    return pytest.param(data, error, code, quorum, id=name)


MAL = Code.MALFORMED
REFUSALS = [
    _case("another log signed", _signed(BODY, key=OTHER_LOG), SignatureRefused, Code.KEY_UNKNOWN),
    _case(
        "wrong origin (signed by our key)",
        _signed(b"other.example/log\n5\n" + R.encode() + b"\n"),
        SignatureRefused,
        Code.KEY_UNKNOWN,
    ),
    _case("unknown key", _signed(BODY, key=IMPOSTOR), SignatureRefused, Code.KEY_UNKNOWN),
    _case(
        "only a witness signed",
        BODY + b"\n" + W1.cosign_line(BODY, 1).encode(),
        SignatureRefused,
        Code.KEY_UNKNOWN,
    ),
    _case(
        "log signature over another body",
        BODY + b"\n" + LOG.sign_line(Checkpoint(ORIGIN, 1, ROOT).body()).encode(),
        SignatureRefused,
        Code.SIGNATURE_INVALID,
    ),
    _case("leading zero size", _signed(f"{ORIGIN}\n05\n{R}\n".encode()), MalformedInput, MAL),
    _case("negative size", _signed(f"{ORIGIN}\n-5\n{R}\n".encode()), MalformedInput, MAL),
    _case("size with a sign", _signed(f"{ORIGIN}\n+5\n{R}\n".encode()), MalformedInput, MAL),
    _case("size 2**64", _signed(f"{ORIGIN}\n{2**64}\n{R}\n".encode()), MalformedInput, MAL),
    _case("size in hex", _signed(f"{ORIGIN}\n0x5\n{R}\n".encode()), MalformedInput, MAL),
    _case(
        "short root",
        _signed(f"{ORIGIN}\n5\n{_root_b64(ROOT[:31])}\n".encode()),
        MalformedInput,
        MAL,
    ),
    _case(
        "long root",
        _signed(f"{ORIGIN}\n5\n{_root_b64(ROOT + b'x')}\n".encode()),
        MalformedInput,
        MAL,
    ),
    _case("root not base64", _signed(f"{ORIGIN}\n5\n{R[:-2]}!=\n".encode()), MalformedInput, MAL),
    _case(
        "empty tree with another root",
        _signed(f"{ORIGIN}\n0\n{R}\n".encode()),
        MalformedInput,
        MAL,
    ),
    _case("extension line", _signed(BODY + b"extension\n"), MalformedInput, MAL),
    _case("two lines", _signed(f"{ORIGIN}\n5\n".encode()), MalformedInput, MAL),
    _case("empty origin", _signed(f"\n5\n{R}\n".encode()), MalformedInput, MAL),
    _case(
        "quorum not met",
        _signed(BODY, W1.cosign_line(BODY, 100)),
        LogRefused,
        Code.LOG_COSIGNATURE_MISSING,
        2,
    ),
    _case(
        "cosignature by an unlisted witness does not count",
        _signed(BODY, CosignerKey("witness.example/w9", bytes(32)).cosign_line(BODY, 1)),
        LogRefused,
        Code.LOG_COSIGNATURE_MISSING,
        1,
    ),
    _case(
        "forged cosignature",
        _signed(BODY, W2.cosign_line(BODY, 100), FORGED_W1),
        SignatureRefused,
        Code.SIGNATURE_INVALID,
        1,
    ),
    _case(
        "cosignature of another checkpoint",
        _signed(BODY, W1.cosign_line(Checkpoint(ORIGIN, 1, ROOT).body(), 100)),
        SignatureRefused,
        Code.SIGNATURE_INVALID,
    ),
    _case("not a signed note", BODY, MalformedInput, MAL),
]


@pytest.mark.parametrize(("data", "error", "code", "quorum"), REFUSALS)
def test_refused(data: bytes, error: type[RegieError], code: Code, quorum: int) -> None:
    with pytest.raises(error) as refused:
        open_checkpoint(data, LOG.verifier(), witnesses=WITNESSES, quorum=quorum)
    assert refused.value.code is code


def test_refusals_are_about_the_checkpoint_not_the_signature() -> None:
    """The malformed bodies in the table are signed by the log: only their form is wrong."""
    for body in (f"{ORIGIN}\n05\n{R}\n", BODY.decode() + "extension\n"):
        note = parse_note(_signed(body.encode()))
        assert note.signatures[0].name == ORIGIN
        with pytest.raises(MalformedInput):
            Checkpoint.parse_body(note.text)


def test_caller_mistakes_are_misuse() -> None:
    with pytest.raises(Misuse):
        sign_checkpoint(CP, OTHER_LOG)
    with pytest.raises(Misuse):
        open_checkpoint(sign_checkpoint(CP, LOG), LOG.verifier(), witnesses=[], quorum=1)
    with pytest.raises(Misuse):
        open_checkpoint(sign_checkpoint(CP, LOG), W1.verifier())
    with pytest.raises(Misuse):
        open_checkpoint(sign_checkpoint(CP, LOG), LOG.verifier(), witnesses=[OTHER_LOG.verifier()])
    for bad in (
        lambda: Checkpoint(ORIGIN, -1, ROOT),
        lambda: Checkpoint(ORIGIN, 1, ROOT[:31]),
        lambda: Checkpoint("has space", 1, ROOT),
    ):
        with pytest.raises(Misuse):
            bad()
