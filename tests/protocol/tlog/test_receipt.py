"""Receipts (C2SP tlog-proof): render and parse, verify against a tree built here, refusals."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regie_protocol.errors import Code, LogRefused, MalformedInput, RegieError, SignatureRefused
from regie_protocol.tlog import merkle
from regie_protocol.tlog.checkpoint import Checkpoint, sign_checkpoint, with_cosignatures
from regie_protocol.tlog.note import CosignerKey, NoteKey
from regie_protocol.tlog.receipt import MAX_PROOF_LINES, Receipt, verify_receipt

ORIGIN = "wallet.example/log"
LOG = NoteKey(ORIGIN, bytes(range(32)))
OTHER_LOG = NoteKey("other.example/log", bytes(range(1, 33)))
W1 = CosignerKey("witness.example/w1", bytes(range(3, 35)))
SIZE = 13
EVENTS = [b'{"event":%d}' % i for i in range(SIZE)]

# c2sp.org/tlog-proof, the example (its signatures are shortened with "[...]" in the spec)
SPEC_PROOF = """c2sp.org/tlog-proof@v1
extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ
index 73894
gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=
B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=
EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=
RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=
AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=

example.com/fancylog
109482
sFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=

— example.com/fancylog hI2DJw[...]1roloI=
— witness1.example mJirIklj[...]qY9v2B/5bg==
— witness2.example TnKKVHLX[...]xwYwrSjgow==
— witness3.example S4X82uH5[...]3oEcROGLFQ==
"""


class Log:
    """A log of SIZE events built here: node hashes, the signed checkpoint, receipts."""

    def __init__(self, events: list[bytes], key: NoteKey = LOG) -> None:
        self.nodes: dict[merkle.NodeId, bytes] = {}
        frontier = merkle.Frontier.empty()
        for index, event in enumerate(events):
            leaf = merkle.leaf_hash(event)
            self.nodes[(0, index)] = leaf
            frontier, completed = frontier.append(leaf)
            self.nodes.update(completed)
        self.checkpoint = Checkpoint(key.name, frontier.size, frontier.root())
        self.note = sign_checkpoint(self.checkpoint, key)

    def receipt(self, index: int, extra: bytes | None = None) -> Receipt:
        plan = merkle.inclusion_plan(index, self.checkpoint.size)
        return Receipt(index, tuple(merkle.build(plan, self.nodes)), self.note, extra)


@pytest.fixture(scope="module")
def log() -> Log:
    return Log(EVENTS)


def test_every_receipt_round_trips_and_verifies(log: Log) -> None:
    for index, event in enumerate(EVENTS):
        receipt = log.receipt(index)
        text = receipt.render()
        assert Receipt.parse(text) == receipt
        assert Receipt.parse(text.encode()) == receipt
        opened = verify_receipt(
            Receipt.parse(text), leaf_hash=merkle.leaf_hash(event), log=LOG.verifier()
        )
        assert opened.checkpoint == log.checkpoint


def test_render_is_the_c2sp_shape(log: Log) -> None:
    receipt = log.receipt(5, extra=b"context")
    lines = receipt.render().split("\n")
    hashes = [base64.b64encode(h).decode() for h in receipt.proof]
    assert lines[:3] == ["c2sp.org/tlog-proof@v1", "extra Y29udGV4dA==", "index 5"]
    assert lines[3 : 3 + len(hashes)] == hashes
    assert lines[3 + len(hashes)] == ""
    assert "\n".join(lines[4 + len(hashes) :]).encode() == log.note


def test_receipt_with_witness_quorum(log: Log) -> None:
    body = log.checkpoint.body()
    cosigned = with_cosignatures(log.note, [W1.cosign_line(body, 1_790_000_000)])
    receipt = Receipt.parse(Receipt(3, log.receipt(3).proof, cosigned).render())
    opened = verify_receipt(
        receipt,
        leaf_hash=merkle.leaf_hash(EVENTS[3]),
        log=LOG.verifier(),
        witnesses=[W1.verifier()],
        quorum=1,
    )
    assert opened.cosigned_by == {W1.verifier(): 1_790_000_000}
    with pytest.raises(LogRefused) as refused:
        verify_receipt(
            log.receipt(3),
            leaf_hash=merkle.leaf_hash(EVENTS[3]),
            log=LOG.verifier(),
            witnesses=[W1.verifier()],
            quorum=1,
        )
    assert refused.value.code is Code.LOG_COSIGNATURE_MISSING


def test_single_entry_log_has_an_empty_proof() -> None:
    one = Log(EVENTS[:1])
    receipt = Receipt.parse(one.receipt(0).render())
    assert receipt.proof == ()
    verify_receipt(receipt, leaf_hash=merkle.leaf_hash(EVENTS[0]), log=LOG.verifier())


def test_spec_example_parses() -> None:
    receipt = Receipt.parse(SPEC_PROOF)
    assert receipt.index == 73894
    assert receipt.extra == base64.b64decode("YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ")
    assert len(receipt.proof) == 5
    assert receipt.proof[0] == base64.b64decode("gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=")
    assert receipt.checkpoint.startswith(b"example.com/fancylog\n109482\n")
    assert receipt.render() == SPEC_PROOF


def _tampered_text(log: Log) -> str:
    text = log.receipt(6).render()
    line = base64.b64encode(log.receipt(6).proof[1]).decode()
    flipped = base64.b64encode(bytes([base64.b64decode(line)[0] ^ 1]) + base64.b64decode(line)[1:])
    return text.replace(line, flipped.decode())


def _refusal(name: str, error: type[RegieError], code: Code, **kwargs: Any) -> Any:
    return pytest.param(error, code, kwargs, id=name)


VERIFY_REFUSALS = [
    _refusal("another log's checkpoint", SignatureRefused, Code.KEY_UNKNOWN, other_log=True),
    _refusal("wrong index", LogRefused, Code.LOG_PROOF_INVALID, index=7),
    _refusal("index beyond the tree", LogRefused, Code.LOG_PROOF_INVALID, index=SIZE),
    _refusal("tampered proof line", LogRefused, Code.LOG_PROOF_INVALID, tamper=True),
    _refusal("leaf not in tree", LogRefused, Code.LOG_PROOF_INVALID, leaf=b'{"event":99}'),
    _refusal("proof line dropped", LogRefused, Code.LOG_PROOF_INVALID, drop=True),
]


@pytest.mark.parametrize(("error", "code", "change"), VERIFY_REFUSALS)
def test_verify_refused(log: Log, error: type[RegieError], code: Code, change: Any) -> None:
    receipt = log.receipt(6)
    if change.get("other_log"):
        receipt = Log(EVENTS, OTHER_LOG).receipt(6)
    if "index" in change:
        receipt = Receipt(change["index"], receipt.proof, receipt.checkpoint)
    if change.get("tamper"):
        receipt = Receipt.parse(_tampered_text(log))
    if change.get("drop"):
        receipt = Receipt(6, receipt.proof[:-1], receipt.checkpoint)
    leaf = merkle.leaf_hash(change.get("leaf", EVENTS[6]))
    with pytest.raises(error) as refused:
        verify_receipt(receipt, leaf_hash=leaf, log=LOG.verifier())
    assert refused.value.code is code


def _text(*header: str, checkpoint: str = "c\n\n— k AAAAAAAA\n") -> str:
    return "\n".join(header) + "\n\n" + checkpoint


H = "c2sp.org/tlog-proof@v1"
HASH = base64.b64encode(bytes(32)).decode()

PARSE_REFUSALS = [
    ("missing header", _text("index 0")),
    ("other version", _text("c2sp.org/tlog-proof@v2", "index 0")),
    ("missing index", _text(H, HASH)),
    ("index with leading zero", _text(H, "index 07")),
    ("negative index", _text(H, "index -1")),
    ("index 2**64", _text(H, f"index {2**64}")),
    ("index with two spaces", _text(H, "index  7")),
    ("extra after index", _text(H, "index 7", "extra AAAA")),
    ("extra not base64", _text(H, "extra A!AA", "index 7")),
    ("proof line not base64", _text(H, "index 7", HASH[:-2] + "!=")),
    ("proof line of 31 bytes", _text(H, "index 7", base64.b64encode(bytes(31)).decode())),
    ("proof line with a space", _text(H, "index 7", " " + HASH)),
    ("65 proof lines", _text(H, "index 7", *[HASH] * (MAX_PROOF_LINES + 1))),
    ("no empty line", H + "\nindex 7\n" + HASH + "\n"),
    ("no checkpoint", _text(H, "index 7", checkpoint="")),
    ("checkpoint not ending in newline", _text(H, "index 7", checkpoint="c\n\n— k AAAA")),
    ("control character in checkpoint", _text(H, "index 7", checkpoint="c\t\n\n— k AAAA\n")),
    ("non-ASCII header", _text(H, "index ７")),
    ("CRLF lines", _text(H + "\r", "index 7")),
    ("too large", _text(H, "index 7", checkpoint="x" * 40000 + "\n")),
]


@pytest.mark.parametrize("text", [pytest.param(t, id=i) for i, t in PARSE_REFUSALS])
def test_parse_refused(text: str) -> None:
    with pytest.raises(MalformedInput):
        Receipt.parse(text)


def test_not_utf8_refused() -> None:
    with pytest.raises(MalformedInput):
        Receipt.parse(_text(H, "index 7").encode() + b"\xff\n")
    with pytest.raises(MalformedInput):
        Receipt.parse(_text(H, "index 7", checkpoint="\ud800\n"))


def test_64_proof_lines_are_read() -> None:
    assert len(Receipt.parse(_text(H, "index 7", *[HASH] * MAX_PROOF_LINES)).proof) == 64


LOG_NOTE = sign_checkpoint(Checkpoint(ORIGIN, 1, merkle.leaf_hash(b"x")), LOG)


@given(
    index=st.integers(0, 2**64 - 2),
    proof=st.lists(st.binary(min_size=32, max_size=32), max_size=MAX_PROOF_LINES),
    extra=st.none() | st.binary(max_size=300),
)
def test_any_receipt_round_trips(index: int, proof: list[bytes], extra: bytes | None) -> None:
    receipt = Receipt(index, tuple(proof), LOG_NOTE, extra)
    assert Receipt.parse(receipt.render()) == receipt
