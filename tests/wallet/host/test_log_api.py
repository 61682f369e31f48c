"""The host's consent log over HTTP: events for each action, receipts, proofs, and who sees what.

On SQLite and PostgreSQL. Every action of the flow (request, grant, read,
withdrawal, refused read) is an event in the log; a read's answer carries a
receipt anyone can check offline; checkpoints, leaf hashes and proofs are
public; events go to an auditor (all), the citizen (their own) and nobody
else; a receipt also to the verifier whose read it was.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from regie_protocol.dpop import create_proof
from regie_protocol.errors import LogRefused
from regie_protocol.http import PROBLEM_TYPE_BASE
from regie_protocol.keys import Alg, SigningKey
from regie_protocol.tlog import merkle
from regie_protocol.tlog.checkpoint import open_checkpoint
from regie_protocol.tlog.event import EventName, EventView, pseudonym
from regie_protocol.tlog.note import NoteVerifier
from regie_protocol.tlog.receipt import Receipt, verify_receipt
from wallet import consents
from wallet.core import create_wallet
from wallet.log import record
from wallet.log.access import add_reader
from wallet.storage import Consent, LogHead, LogReaderRole
from wallet.vault import KdfParams, VaultPassphrase

from .world import HOST_URL, NOW, World

TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def _get(w: World, path: str, key: SigningKey | None = None, **params: Any) -> httpx.Response:
    headers = {}
    if key is not None:
        headers["DPoP"] = create_proof(key, htm="GET", htu=HOST_URL + path, now=w.clock.now)
    return w.client.get(path, params=params, headers=headers)


def _register(w: World, role: LogReaderRole, owner: str | None = None) -> SigningKey:
    key = SigningKey.generate(Alg.EDDSA)
    w.db.run(
        lambda conn: add_reader(
            conn,
            jwk=key.public_key.to_jwk(),
            role=role,
            name=f"test {role.value}",
            now=NOW,
            owner=owner,
        )
    )
    return key


def _events(w: World, key: SigningKey) -> list[EventView]:
    response = _get(w, "/v1/log/events", key)
    assert response.status_code == 200, response.text
    return [EventView.of(e["index"], e["event"].encode()) for e in response.json()["events"]]


def _log_key(w: World) -> NoteVerifier:
    return NoteVerifier.parse(w.client.get("/v1/log/key").text.strip())


def test_each_step_of_the_flow_is_an_event_and_a_read_has_a_receipt(world: World) -> None:
    granted = world.consent()
    world.clock.now = NOW + 60
    read = world.read(
        granted.token, body={"attributes": ["address"]}, headers={"traceparent": TRACE}
    )
    assert read.status_code == 200, read.text
    body = read.json()
    consents.revoke(world.wallet, granted.id, now=NOW + 120)
    world.clock.now = NOW + 180
    assert world.read(granted.token).status_code == 403

    auditor = _register(world, LogReaderRole.AUDITOR)
    events = _events(world, auditor)
    assert [e.name.value for e in events] == [
        "consent.requested",
        "consent.granted",
        "data.released",
        "consent.withdrawn",
        "data.refused",
    ]
    released = events[2]
    assert released.index == body["logIndex"]
    assert (released.consent_id, released.verifier, released.use) == (
        granted.id,
        world.a.id,
        1,
    )
    assert released.attributes == ("address", "given_name")
    assert released.raw["foreign_operation"]["trace_id"] == TRACE.split("-")[1]
    # the citizen is a keyed pseudonym, never the wallet id
    key = world.db.fetch_all(select(LogHead))[0]["pseudonym_key"]
    assert released.subject == pseudonym(bytes(key), world.wallet.owner) != world.wallet.owner
    assert world.wallet.owner.encode() not in json.dumps(released.raw).encode()
    assert events[4].refusal_type == "consent_ended" or events[4].refusal_type is not None
    assert events[1].max_uses is not None or events[1].expires_at is not None

    # the receipt: anyone checks it offline against the log's key and the event's bytes
    receipt = Receipt.parse(body["receipt"])
    assert receipt.index == released.index
    leaf = merkle.leaf_hash(
        json.dumps(released.raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    )
    opened = verify_receipt(receipt, leaf_hash=leaf, log=_log_key(world))
    assert opened.checkpoint.size > released.index
    with pytest.raises(LogRefused):
        verify_receipt(receipt, leaf_hash=merkle.leaf_hash(b"other"), log=_log_key(world))


def test_checkpoints_and_proofs_are_public_and_hold(world: World) -> None:
    granted = world.consent()
    for step in range(3):
        world.clock.now = NOW + 10 * (step + 1)
        assert world.read(granted.token).status_code == 200
    log = _log_key(world)
    first = open_checkpoint(world.client.get("/v1/log/checkpoint").content, log).checkpoint
    consents.revoke(world.wallet, granted.id, now=world.clock.now)
    signer = _register(world, LogReaderRole.AUDITOR)
    signed = world.client.post(
        "/v1/log/checkpoint",
        headers={
            "DPoP": create_proof(
                signer, htm="POST", htu=HOST_URL + "/v1/log/checkpoint", now=world.clock.now
            )
        },
    )
    assert signed.status_code == 200, signed.text
    second = open_checkpoint(signed.content, log).checkpoint
    assert second.size > first.size

    hashes = world.client.get("/v1/log/leaf-hashes", params={"start": 0}).json()["leafHashes"]
    leaves = [base64.b64decode(h) for h in hashes]
    tree = merkle.TreeHasher()
    for leaf in leaves[: second.size]:
        tree.add_leaf_hash(leaf)
    assert tree.root() == second.root

    proof = world.client.get(
        "/v1/log/proofs/consistency", params={"from": first.size, "to": second.size}
    ).json()["proof"]
    merkle.verify_consistency(
        first.size, second.size, [base64.b64decode(p) for p in proof], first.root, second.root
    )
    for index in range(second.size):
        answer = world.client.get(
            "/v1/log/proofs/inclusion", params={"index": index, "size": second.size}
        ).json()
        merkle.verify_inclusion(
            leaves[index],
            index,
            second.size,
            [base64.b64decode(p) for p in answer["proof"]],
            second.root,
        )
    out_of_range = world.client.get("/v1/log/proofs/inclusion", params={"index": 99, "size": 100})
    assert out_of_range.status_code == 400
    assert out_of_range.headers["content-type"] == "application/problem+json"


@dataclass(frozen=True)
class Access:
    who: str
    path: str
    status: int


def _other_citizen_event(w: World) -> tuple[int, str]:
    """An event of a second wallet on the same host: its index and the wallet id."""
    other = create_wallet(
        w.db, VaultPassphrase("another citizen"), now=NOW, kdf=KdfParams.unsafe_fast_for_tests()
    )
    appended = w.db.run(
        lambda conn: record.ended(
            conn, EventName.WITHDRAWN, owner=other, consent_id="c-other", verifier=w.a.id, now=NOW
        )
    )
    return appended.index, other


ACCESS = [
    Access("auditor", "/v1/log/events", 200),
    Access("citizen", "/v1/log/events", 200),
    Access("citizen", "/v1/log/receipts/{own}", 200),
    Access("verifier-a", "/v1/log/receipts/{own}", 200),
    Access("auditor", "/v1/log/receipts/{other}", 200),
    Access("nobody", "/v1/log/events", 401),
    Access("nobody", "/v1/log/receipts/{own}", 401),
    Access("unregistered-key", "/v1/log/events", 403),
    Access("citizen", "/v1/log/receipts/{other}", 403),
    Access("other-citizen", "/v1/log/receipts/{own}", 403),
    Access("verifier-a", "/v1/log/events", 403),
    Access("verifier-a", "/v1/log/receipts/{other}", 403),
    Access("verifier-b", "/v1/log/receipts/{own}", 403),
    Access("verifier-a", "/v1/log/checkpoint", 200),
    Access("nobody", "/v1/log/checkpoint", 200),
    Access("nobody", "/v1/log/leaf-hashes", 200),
]


def test_who_may_see_what(world: World) -> None:
    granted = world.consent()
    world.clock.now = NOW + 60
    read = world.read(granted.token)
    assert read.status_code == 200
    own = read.json()["logIndex"]
    other, other_owner = _other_citizen_event(world)
    keys = {
        "auditor": _register(world, LogReaderRole.AUDITOR),
        "citizen": _register(world, LogReaderRole.CITIZEN, world.wallet.owner),
        "verifier-a": world.a.key,
        "verifier-b": world.b.key,
        "unregistered-key": SigningKey.generate(Alg.EDDSA),
        "nobody": None,
    }
    keys["other-citizen"] = _register(world, LogReaderRole.CITIZEN, other_owner)
    failures = []
    for case in ACCESS:
        path = case.path.format(own=own, other=other)
        response = _get(world, path, keys[case.who])
        if response.status_code != case.status:
            failures.append(f"{case.who} {path}: {response.status_code} {response.text[:200]}")
        elif case.status >= 400:
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["type"].startswith(PROBLEM_TYPE_BASE)
    assert not failures, failures

    # a citizen's events are their own only; an auditor's are everyone's
    citizen_events = _events(world, keys["citizen"])
    auditor_events = _events(world, keys["auditor"])
    assert other not in {e.index for e in citizen_events}
    assert other in {e.index for e in auditor_events}
    assert {e.subject for e in citizen_events} == {citizen_events[0].subject}
    # a DPoP proof is good once
    proof = create_proof(
        keys["auditor"], htm="GET", htu=HOST_URL + "/v1/log/events", now=world.clock.now
    )
    assert world.client.get("/v1/log/events", headers={"DPoP": proof}).status_code == 200
    assert world.client.get("/v1/log/events", headers={"DPoP": proof}).status_code == 401


def test_a_read_whose_event_cannot_be_logged_is_refused_and_not_counted(
    sqlite_world: World,
) -> None:
    w = sqlite_world
    granted = w.consent()
    w.db.execute(
        text(
            "CREATE TRIGGER log_full BEFORE INSERT ON log_event "
            "BEGIN SELECT RAISE(ABORT, 'the log is full'); END"
        )
    )
    w.clock.now = NOW + 60
    response = w.read(granted.token)
    assert response.status_code >= 500
    assert response.headers["content-type"] == "application/problem+json"
    row = w.db.fetch_all(select(Consent).where(Consent.id == granted.id))[0]  # type: ignore[arg-type]
    assert (row["uses"], row["last_used_at"]) == (0, None)
    w.db.execute(text("DROP TRIGGER log_full"))
    assert w.read(granted.token, proof=None).status_code == 200


def _purge(w: World, token: str, key: SigningKey, body: dict[str, Any]) -> httpx.Response:
    proof = create_proof(
        key, htm="POST", htu=HOST_URL + "/v1/purge-reports", now=w.clock.now, access_token=token
    )
    return w.client.post(
        "/v1/purge-reports",
        json=body,
        headers={"Authorization": f"DPoP {token}", "DPoP": proof},
    )


def test_a_verifiers_purge_report_is_logged_with_a_receipt(world: World) -> None:
    granted = world.consent()
    world.clock.now = NOW + 60
    assert world.read(granted.token).status_code == 200
    consents.revoke(world.wallet, granted.id, now=NOW + 120)
    world.clock.now = NOW + 600
    report = {"purgedAt": NOW + 590, "attributes": ["address"]}
    refused = {
        "another verifier's key": _purge(world, granted.token, world.b.key, report),
        "purged in the future": _purge(
            world, granted.token, world.a.key, {**report, "purgedAt": NOW + 9999}
        ),
        "an altered token": _purge(world, granted.token[:-4] + "AAAA", world.a.key, report),
        "no attributes": _purge(world, granted.token, world.a.key, {**report, "attributes": []}),
    }
    assert {name: r.status_code for name, r in refused.items()} == {
        "another verifier's key": 401,
        "purged in the future": 400,
        "an altered token": 401,
        "no attributes": 400,
    }
    answer = _purge(world, granted.token, world.a.key, report)
    assert answer.status_code == 201, answer.text
    index = answer.json()["logIndex"]
    auditor = _register(world, LogReaderRole.AUDITOR)
    event = next(e for e in _events(world, auditor) if e.index == index)
    assert (event.name.value, event.consent_id, event.purged_at) == (
        "retention.purged",
        granted.id,
        NOW + 590,
    )
    assert event.attributes == ("address",)
    receipt = Receipt.parse(answer.json()["receipt"])
    body = world.client.get(
        f"/v1/log/events?start={index}&end={index + 1}",
        headers={
            "DPoP": create_proof(
                auditor, htm="GET", htu=HOST_URL + "/v1/log/events", now=world.clock.now
            )
        },
    ).json()["events"][0]["event"]
    verify_receipt(receipt, leaf_hash=merkle.leaf_hash(body.encode()), log=_log_key(world))
