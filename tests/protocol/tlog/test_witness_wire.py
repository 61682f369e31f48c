"""The C2SP tlog-witness add-checkpoint bodies: request, cosignature response, 409 size."""

from __future__ import annotations

import base64

import pytest

from regie_protocol.errors import MalformedInput, Misuse
from regie_protocol.tlog import merkle
from regie_protocol.tlog.checkpoint import (
    Checkpoint,
    open_checkpoint,
    sign_checkpoint,
    with_cosignatures,
)
from regie_protocol.tlog.note import CosignerKey, NoteKey
from regie_protocol.tlog.witness_wire import (
    MAX_PROOF_LINES,
    SIZE_MEDIA_TYPE,
    AddCheckpoint,
    parse_cosignatures,
    parse_size,
    render_cosignatures,
    render_size,
)

ORIGIN = "wallet.example/log"
LOG = NoteKey(ORIGIN, bytes(range(32)))
W1 = CosignerKey("witness.example/w1", bytes(range(3, 35)))
W2 = CosignerKey("witness.example/w2", bytes(range(4, 36)))
HASH = base64.b64encode(bytes(32)).decode()

# c2sp.org/tlog-witness, add-checkpoint: the example request and response bodies
SPEC_REQUEST = (
    "old 20852014\n"
    "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"
    "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n"
    "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n"
    "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n"
    "\n"
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q"
    "1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    "— example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V626"
    "7UEjw6QUXTS5Rovnzv++qbSzm9Q=\n"
).encode()
SPEC_RESPONSE = (
    "— witness.example/w1 CMp+6LWBU0anHGH5aNDTJkH/gj79sG+T6+iP2ThYN5krrDJbR1HDnucjL39QsZTSvVjyQLrd"
    "k3DXDqI5G2HgLatVs0pWh6Up69HVOw==\n"
    "— witness.example/w1 I7rEps0pvK2UqkS2gSpVUDhrhVtQV9lgF6pRrWAvjJHjyWpW7VcE3SiOlVlbQNt64vWhO+Dl"
    "kL0+UfzuOBMh9ChdMkP1vi/lCAsmlw==\n"
    "— witness.example/w2 AWui8Sk55XjYLOijihBjhqEH6nS1ndDymE0a+6idX7pLcnoB+dhnz0854aLZgrrKbYKA7nC3"
    "HNJhm/kWl7oJlqU3rXXvpysAdyP3wQ==\n"
).encode()


def _tree(size: int) -> tuple[dict[merkle.NodeId, bytes], list[bytes]]:
    nodes: dict[merkle.NodeId, bytes] = {}
    roots = [merkle.EMPTY_ROOT]
    frontier = merkle.Frontier.empty()
    for index in range(size):
        leaf = merkle.leaf_hash(b"event %d" % index)
        nodes[(0, index)] = leaf
        frontier, completed = frontier.append(leaf)
        nodes.update(completed)
        roots.append(frontier.root())
    return nodes, roots


NODES, ROOTS = _tree(21)
CHECKPOINT = Checkpoint(ORIGIN, 21, ROOTS[21])
NOTE = sign_checkpoint(CHECKPOINT, LOG)
_EXTENDED_BODY = CHECKPOINT.body() + b"extension\n"
EXTENDED = _EXTENDED_BODY + b"\n" + LOG.sign_line(_EXTENDED_BODY).encode()


def test_request_round_trip_with_a_real_proof() -> None:
    proof = merkle.build(merkle.consistency_plan(13, 21), NODES)
    request = AddCheckpoint(13, tuple(proof), NOTE)
    body = request.render()
    assert body.startswith(b"old 13\n")
    assert body.endswith(b"\n\n" + NOTE)
    parsed = AddCheckpoint.parse(body)
    assert parsed == request
    merkle.verify_consistency(13, 21, parsed.proof, ROOTS[13], ROOTS[21])
    assert open_checkpoint(parsed.checkpoint, LOG.verifier()).checkpoint == CHECKPOINT


def test_first_request_has_old_zero_and_no_proof() -> None:
    body = AddCheckpoint(0, (), NOTE).render()
    assert body == b"old 0\n\n" + NOTE
    assert AddCheckpoint.parse(body) == AddCheckpoint(0, (), NOTE)


def test_spec_example_request_parses() -> None:
    request = AddCheckpoint.parse(SPEC_REQUEST)
    assert request.old_size == 20852014
    assert len(request.proof) == 4
    assert request.proof[0] == base64.b64decode("PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=")
    assert request.checkpoint.startswith(b"example.com/behind-the-sofa\n20852163\n")
    assert request.render() == SPEC_REQUEST


def test_63_proof_lines_are_read() -> None:
    body = ("old 1\n" + (HASH + "\n") * MAX_PROOF_LINES + "\n").encode() + NOTE
    assert len(AddCheckpoint.parse(body).proof) == 63


def _request(head: str, checkpoint: bytes = NOTE) -> bytes:
    return head.encode() + checkpoint


REQUEST_REFUSALS = [
    ("64 proof lines", _request("old 1\n" + (HASH + "\n") * (MAX_PROOF_LINES + 1) + "\n")),
    ("old with leading zero", _request("old 013\n\n")),
    ("old negative", _request("old -1\n\n")),
    ("old in hex", _request("old 0xd\n\n")),
    ("old without a number", _request("old \n\n")),
    ("old with two spaces", _request("old  13\n\n")),
    ("old misspelt", _request("olds 13\n\n")),
    ("no old line", _request(HASH + "\n\n")),
    ("old larger than the checkpoint", _request("old 22\n\n")),
    ("proof line not base64", _request(f"old 13\n{HASH[:-2]}!=\n\n")),
    ("proof line of 33 bytes", _request(f"old 13\n{base64.b64encode(bytes(33)).decode()}\n\n")),
    ("proof line with trailing space", _request(f"old 13\n{HASH} \n\n")),
    ("missing blank line", _request("old 13\n")),
    ("CRLF", _request("old 13\r\n\r\n")),
    ("checkpoint is not a signed note", _request("old 13\n\n", CHECKPOINT.body())),
    ("checkpoint with an extension line", _request("old 13\n\n", EXTENDED)),
    ("empty body", b""),
    ("too large", _request("old 13\n\n", NOTE + b"x" * 30000)),
]


@pytest.mark.parametrize("body", [pytest.param(b, id=i) for i, b in REQUEST_REFUSALS])
def test_request_refused(body: bytes) -> None:
    with pytest.raises(MalformedInput):
        AddCheckpoint.parse(body)


def test_render_refuses_what_parse_would() -> None:
    with pytest.raises(Misuse):
        AddCheckpoint(1, (bytes(32),) * (MAX_PROOF_LINES + 1), NOTE)
    with pytest.raises(Misuse):
        AddCheckpoint(1, (bytes(31),), NOTE)
    with pytest.raises(Misuse):
        AddCheckpoint(-1, (), NOTE)


def test_response_round_trip_and_use() -> None:
    body = CHECKPOINT.body()
    lines = [W1.cosign_line(body, 1000), W2.cosign_line(body, 1001)]
    response = render_cosignatures(lines)
    assert response == "".join(lines).encode()
    parsed = parse_cosignatures(response)
    assert parsed == lines
    # the spec's way to use them: append to the checkpoint, verify with the witness keys
    cosigned = with_cosignatures(NOTE, parsed)
    opened = open_checkpoint(
        cosigned, LOG.verifier(), witnesses=[W1.verifier(), W2.verifier()], quorum=2
    )
    assert opened.cosigned_by == {W1.verifier(): 1000, W2.verifier(): 1001}


def test_spec_example_response_parses() -> None:
    lines = parse_cosignatures(SPEC_RESPONSE)
    assert len(lines) == 3
    assert [line.split(" ")[1] for line in lines] == [
        "witness.example/w1",
        "witness.example/w1",
        "witness.example/w2",
    ]
    assert "".join(lines).encode() == SPEC_RESPONSE


RESPONSE_REFUSALS = [
    ("empty", b""),
    ("no final newline", SPEC_RESPONSE[:-1]),
    ("blank line", SPEC_RESPONSE + b"\n"),
    ("not a signature line", b"witness.example/w1 AAAAAAAA\n"),
    ("bad base64", "— witness.example/w1 AAAA!AAA\n".encode()),
    ("not UTF-8", b"\xff\n"),
    ("33 lines", SPEC_RESPONSE * 11),
]


@pytest.mark.parametrize("body", [pytest.param(b, id=i) for i, b in RESPONSE_REFUSALS])
def test_response_refused(body: bytes) -> None:
    with pytest.raises(MalformedInput):
        parse_cosignatures(body)


def test_size_body() -> None:
    assert SIZE_MEDIA_TYPE == "text/x.tlog.size"
    assert render_size(20852163) == b"20852163\n"
    assert parse_size(b"20852163\n") == 20852163
    assert parse_size(render_size(0)) == 0
    for bad in (b"", b"5", b"05\n", b"-5\n", b"5\n\n", b" 5\n", b"\xff\n", b"1" * 40 + b"\n"):
        with pytest.raises(MalformedInput):
            parse_size(bad)
