"""POST /add-checkpoint answers exactly as C2SP tlog-witness says, case by case.

Each row starts from a witness that cosigned the test log up to size 8 (first
``old 0`` -> 5, then 5 -> 8 with a consistency proof) and submits one body; the
row says the status and problem type expected. After a refusal the witness still
holds size 8; a 422 is kept as evidence.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.witness.app import MAX_BODY_BYTES, create_app, origin_hash
from audit.witness.service import Witness
from audit.witness.store import WitnessStore
from regie_protocol.http import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_BASE
from regie_protocol.tlog import merkle
from regie_protocol.tlog.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from regie_protocol.tlog.note import (
    CosignerKey,
    NoteKey,
    b64encode_std,
    parse_note,
    verified_by,
)
from regie_protocol.tlog.witness_wire import AddCheckpoint

from .conftest import client_for
from .world import T0, Clock, TestLog, raw_body

STORED = 8
COSIGNATURE_TYPE = "text/plain; charset=utf-8"


def post(client: httpx.Client, body: bytes) -> httpx.Response:
    return client.post("/add-checkpoint", content=body)


def cosign_to(client: httpx.Client, log: TestLog, old: int, new: int) -> httpx.Response:
    response = post(client, log.request(old, new))
    assert response.status_code == 200, response.text
    return response


@pytest.fixture
def at_eight(client: httpx.Client, log: TestLog) -> httpx.Client:
    """The witness has cosigned sizes 5 and then 8 of ``log``."""
    cosign_to(client, log, 0, 5)
    cosign_to(client, log, 5, STORED)
    return client


# -- bodies ------------------------------------------------------------------------------


def tamper_signature(note: bytes) -> bytes:
    """The note with the last byte of its (first) signature flipped; key name and ID kept."""
    text, _, line = note.partition(b"\n\xe2\x80\x94 ")
    name, _, encoded = line.rstrip(b"\n").partition(b" ")
    raw = bytearray(base64.b64decode(encoded))
    raw[-1] ^= 0x01
    return text + b"\n\xe2\x80\x94 " + name + b" " + base64.b64encode(bytes(raw)) + b"\n"


def growth(log: TestLog) -> bytes:
    return log.request(STORED, 13)


def same_checkpoint_again(log: TestLog) -> bytes:
    return log.request(STORED, STORED)


def extra_unknown_signature(log: TestLog) -> bytes:
    stranger = NoteKey.generate("someone.example/else")
    note = log.checkpoint(13)
    body = note.split(b"\n\n", 1)[0] + b"\n"
    note += stranger.sign_line(body).encode()
    return AddCheckpoint(STORED, tuple(log.proof(STORED, 13)), note).render()


def unknown_origin(log: TestLog) -> bytes:
    return TestLog.create("other.example/log", 16).request(0, 4)


def unknown_key(log: TestLog) -> bytes:
    impostor = NoteKey.generate(log.origin)  # same name, another key: another key ID
    note = log.checkpoint(13, key=impostor)
    return AddCheckpoint(STORED, tuple(log.proof(STORED, 13)), note).render()


def bad_signature(log: TestLog) -> bytes:
    note = tamper_signature(log.checkpoint(13))
    return AddCheckpoint(STORED, tuple(log.proof(STORED, 13)), note).render()


def no_blank_line(log: TestLog) -> bytes:
    return b"old 8\n" + log.checkpoint(13)


def leading_zero(log: TestLog) -> bytes:
    return raw_body("old 08", [], log.checkpoint(13))


def sixty_four_proof_lines(log: TestLog) -> bytes:
    return raw_body("old 8", [b64encode_std(bytes(32))] * 64, log.checkpoint(13))


def old_above_size(log: TestLog) -> bytes:  # a rollback attempt: a smaller tree
    return AddCheckpoint(STORED, (), log.checkpoint(5)).render()


def stale_old_size(log: TestLog) -> bytes:
    return log.request(5, 13)


def old_zero_when_known(log: TestLog) -> bytes:
    return log.request(0, 13)


def rollback_to_smaller_tree(log: TestLog) -> bytes:
    return log.request(0, 5)


def bad_proof(log: TestLog) -> bytes:
    proof = log.proof(STORED, 13)
    proof[0] = hashlib.sha256(b"not a node").digest()
    return AddCheckpoint(STORED, tuple(proof), log.checkpoint(13)).render()


def short_proof(log: TestLog) -> bytes:
    return AddCheckpoint(STORED, tuple(log.proof(STORED, 13)[:-1]), log.checkpoint(13)).render()


def forked_log(log: TestLog) -> bytes:
    """A tree of 13 by the same key whose leaf 3 differs: its own proof from 8 is valid."""
    fork = TestLog(log.key, list(log.leaves))
    fork.leaves[3] = b"rewritten history"
    return fork.request(STORED, 13)


def split_view(log: TestLog) -> bytes:
    fork = TestLog(log.key, list(log.leaves))
    fork.leaves[7] = b"another event 7"
    return AddCheckpoint(STORED, (), fork.checkpoint(STORED)).render()


def proof_between_equal_sizes(log: TestLog) -> bytes:
    return AddCheckpoint(STORED, (merkle.EMPTY_ROOT,), log.checkpoint(STORED)).render()


@dataclass(frozen=True)
class Case:
    name: str
    body: Callable[[TestLog], bytes]
    status: int
    #: the problem type's code (None: not a problem answer)
    problem: str | None = None
    #: the witness's size afterwards
    size_after: int = STORED
    #: kept as evidence of misbehaviour
    evidence: bool = False


CASES = [
    Case("growth with a valid proof", growth, 200, size_after=13),
    Case("the same checkpoint again", same_checkpoint_again, 200),
    Case("a signature by an unknown key is ignored", extra_unknown_signature, 200, size_after=13),
    Case("unknown origin", unknown_origin, 404, "not_found"),
    Case("signed by an unknown key of the origin", unknown_key, 403, "key_unknown"),
    Case("a trusted key's signature fails", bad_signature, 403, "signature_invalid"),
    Case("no blank line before the checkpoint", no_blank_line, 400, "malformed"),
    Case("an old size with a leading zero", leading_zero, 400, "malformed"),
    Case("64 proof lines", sixty_four_proof_lines, 400, "size_exceeded"),
    Case("old size above the checkpoint size (smaller tree)", old_above_size, 400, "malformed"),
    Case("a stale old size", stale_old_size, 409),
    Case("old size 0 when the witness has a size", old_zero_when_known, 409),
    Case("rollback to a smaller tree from old 0", rollback_to_smaller_tree, 409),
    Case("a proof that does not verify", bad_proof, 422, "log_inconsistent", evidence=True),
    Case("a proof one hash short", short_proof, 422, "log_inconsistent", evidence=True),
    Case("a forked log", forked_log, 422, "log_inconsistent", evidence=True),
    Case("split view: same size, another root", split_view, 422, "log_split_view", evidence=True),
    Case(
        "a proof between equal sizes",
        proof_between_equal_sizes,
        422,
        "log_proof_invalid",
        evidence=True,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_add_checkpoint_answers(
    case: Case, at_eight: httpx.Client, log: TestLog, store: WitnessStore
) -> None:
    body = case.body(log)
    response = post(at_eight, body)
    assert response.status_code == case.status, response.text
    assert response.headers["API-Version"] == "1.0.0"
    if case.status == 200:
        assert response.headers["content-type"] == COSIGNATURE_TYPE
        assert response.text.startswith("— witness.example/w1 ")
    elif case.status == 409:
        assert response.headers["content-type"] == "text/x.tlog.size"
        assert response.content == b"8\n"
    else:
        assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
        problem = response.json()
        assert problem["type"] == PROBLEM_TYPE_BASE + str(case.problem)
        assert problem["status"] == case.status
    latest = store.latest(log.origin)
    assert latest is not None
    assert latest.size == case.size_after
    assert latest.root == log.root(case.size_after)
    kept = store.refusals(log.origin)
    assert [r.body for r in kept] == ([body] if case.evidence else [])
    if case.evidence:
        assert kept[0].code.value == case.problem
        assert (kept[0].old_size, kept[0].stored_size) == (STORED, STORED)


# -- a witness that has seen nothing of the log --------------------------------------------


def test_first_checkpoint_with_old_zero_is_cosigned(
    client: httpx.Client, log: TestLog, witness_key: CosignerKey, store: WitnessStore
) -> None:
    response = cosign_to(client, log, 0, 5)
    assert response.headers["content-type"] == COSIGNATURE_TYPE
    [line] = response.text.splitlines(keepends=True)
    cosigned = parse_note(log.checkpoint(5) + line.encode())
    assert verified_by(cosigned, [witness_key.verifier()]) == {witness_key.verifier(): T0}
    latest = store.latest(log.origin)
    assert latest is not None
    assert (latest.size, latest.root, latest.cosigned_at) == (5, log.root(5), T0)


def test_the_cosignature_is_ed25519_over_the_cosignature_v1_message(
    client: httpx.Client, log: TestLog, witness_key: CosignerKey, clock: Clock
) -> None:
    clock.now = T0 + 42
    line = cosign_to(client, log, 0, 7).text
    name, encoded = line.removeprefix("— ").rstrip("\n").split(" ")
    raw = base64.b64decode(encoded)
    verifier = witness_key.verifier()
    public = verifier.public_key
    assert name == "witness.example/w1"
    assert raw[:4] == hashlib.sha256(name.encode() + b"\n\x04" + public).digest()[:4]
    assert int.from_bytes(raw[4:12], "big") == T0 + 42
    body = Checkpoint(log.origin, 7, log.root(7)).body()
    message = b"cosignature/v1\ntime %d\n" % (T0 + 42) + body
    Ed25519PublicKey.from_public_bytes(public).verify(raw[12:], message)  # raises if wrong


def test_the_empty_tree_is_cosigned(client: httpx.Client, log: TestLog) -> None:
    cosign_to(client, log, 0, 0)
    cosign_to(client, log, 0, 3)  # the empty tree is consistent with any tree


def old_zero_with_a_proof(log: TestLog) -> bytes:
    return AddCheckpoint(0, (merkle.EMPTY_ROOT,), log.checkpoint(4)).render()


def empty_tree_with_another_root(log: TestLog) -> bytes:
    return raw_body("old 0", [], sign_checkpoint(Checkpoint(log.origin, 0, bytes(32)), log.key))


FRESH_REFUSALS = [
    Case("old 0 with a proof", old_zero_with_a_proof, 422, "log_proof_invalid"),
    Case("size 0, not the empty root", empty_tree_with_another_root, 422, "log_inconsistent"),
]


@pytest.mark.parametrize("case", FRESH_REFUSALS, ids=[case.name for case in FRESH_REFUSALS])
def test_refused_on_a_fresh_witness(
    case: Case, client: httpx.Client, log: TestLog, store: WitnessStore
) -> None:
    body = case.body(log)
    response = post(client, body)
    assert response.status_code == case.status
    assert response.json()["type"] == PROBLEM_TYPE_BASE + str(case.problem)
    assert store.latest(log.origin) is None
    [kept] = store.refusals()
    assert (kept.body, kept.code.value, kept.stored_size) == (body, case.problem, None)


def test_a_body_over_the_limit_is_413(client: httpx.Client, log: TestLog) -> None:
    body = log.request(0, 4) + b"x" * MAX_BODY_BYTES
    response = post(client, body)
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE


def test_only_post(client: httpx.Client) -> None:
    assert client.get("/add-checkpoint").status_code == 405


# -- state across a restart, monitoring ----------------------------------------------------


def test_the_state_survives_a_restart(
    at_eight: httpx.Client,
    log: TestLog,
    witness_key: CosignerKey,
    db_path: Path,
    clock: Clock,
) -> None:
    reopened = Witness(witness_key, WitnessStore.open(db_path), clock)
    with client_for(create_app(reopened, base_url="http://witness.test")) as client:
        stale = post(client, log.request(0, 13))
        assert (stale.status_code, stale.content) == (409, b"8\n")
        listed = client.get("/v1/logs").json()["logs"]
        assert [(entry["origin"], entry["size"]) for entry in listed] == [(log.origin, STORED)]
        cosign_to(client, log, STORED, 13)


def test_logs_lists_trusted_logs_and_sizes(
    at_eight: httpx.Client, log: TestLog, witness_key: CosignerKey, store: WitnessStore
) -> None:
    other = NoteKey.generate("other.example/log")
    store.trust_log(other.verifier(), now=T0)
    answer = at_eight.get("/v1/logs")
    assert answer.status_code == 200
    assert answer.json() == {
        "witness": witness_key.verifier().vkey(),
        "logs": [
            {
                "origin": "other.example/log",
                "keys": [other.verifier().vkey()],
                "size": None,
                "rootHash": None,
                "cosignedAt": None,
                "originHash": origin_hash("other.example/log"),
            },
            {
                "origin": log.origin,
                "keys": [log.key.verifier().vkey()],
                "size": STORED,
                "rootHash": b64encode_std(log.root(STORED)),
                "cosignedAt": "2026-09-21T14:13:20Z",
                "originHash": hashlib.sha256(log.origin.encode()).hexdigest(),
            },
        ],
    }


def test_the_latest_cosigned_checkpoint_is_served_for_monitors(
    at_eight: httpx.Client, log: TestLog, witness_key: CosignerKey
) -> None:
    answer = at_eight.get(f"/v1/logs/{origin_hash(log.origin)}/checkpoint")
    assert answer.status_code == 200
    opened = open_checkpoint(
        answer.content, log.key.verifier(), witnesses=[witness_key.verifier()], quorum=1
    )
    assert opened.checkpoint == Checkpoint(log.origin, STORED, log.root(STORED))
    assert opened.cosigned_by == {witness_key.verifier(): T0}
    unknown = at_eight.get(f"/v1/logs/{origin_hash('nobody.example')}/checkpoint")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == PROBLEM_MEDIA_TYPE
