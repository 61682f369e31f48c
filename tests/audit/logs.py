"""Logs for the auditor's tests: real events, a real Merkle tree, real signed checkpoints.

:class:`Log` holds a list of event bytes and the log's note key; it signs
checkpoints at any size (with witness cosignatures), writes export
directories by hand (not through :class:`audit.export_dir.ExportWriter`, so the
reader is tested against the format, not against its own writer) and makes
receipts from inclusion proofs built with :mod:`regie_protocol.tlog.merkle`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from regie_protocol.tlog import merkle
from regie_protocol.tlog.checkpoint import Checkpoint, sign_checkpoint, with_cosignatures
from regie_protocol.tlog.event import EventName, encode_event
from regie_protocol.tlog.note import CosignerKey, NoteKey
from regie_protocol.tlog.receipt import Receipt

ORIGIN = "wallet.regie.example/log"
T0 = 1_790_000_000
DAY = 86_400
DESK = "https://desk.example"
PURPOSE = "https://w3id.org/dpv#ServiceProvision"
BASIS = "https://w3id.org/dpv#Consent"
SUBJECT = "p" * 43


def event(name: EventName, at: int, **details: Any) -> bytes:
    return encode_event(name, at=at, subject=SUBJECT, details=details)


def granted(
    cid: str,
    at: int,
    *,
    verifier: str = DESK,
    attributes: Sequence[str] = ("address",),
    expires_at: int | None = None,
    **terms: Any,
) -> bytes:
    return event(
        EventName.GRANTED,
        at,
        consent_id=cid,
        consent_hash="h" * 43,
        verifier=verifier,
        purpose=PURPOSE,
        legal_basis=BASIS,
        attributes=list(attributes),
        expires_at=expires_at if expires_at is not None else at + 365 * DAY,
        **terms,
    )


def released(
    cid: str,
    at: int,
    use: int,
    *,
    verifier: str = DESK,
    purpose: str = PURPOSE,
    attributes: Sequence[str] = ("address",),
) -> bytes:
    return event(
        EventName.RELEASED,
        at,
        consent_id=cid,
        consent_hash="h" * 43,
        verifier=verifier,
        purpose=purpose,
        legal_basis=BASIS,
        attributes=list(attributes),
        use=use,
    )


def ended(name: EventName, cid: str, at: int, *, verifier: str = DESK) -> bytes:
    return event(name, at, consent_id=cid, verifier=verifier)


def purged(cid: str, at: int, *, verifier: str = DESK) -> bytes:
    return event(
        EventName.PURGED,
        at,
        consent_id=cid,
        verifier=verifier,
        attributes=["address"],
        purged_at=at,
    )


def refused_read(at: int, refusal_type: str, *, verifier: str = DESK) -> bytes:
    details = {"verifier": verifier, "refusal_type": refusal_type, "outcome": "refused"}
    return encode_event(
        EventName.READ_REFUSED, at=at, subject=SUBJECT, details=details, outcome_ok=False
    )


def clean_events() -> list[bytes]:
    """A small, lawful history: requests, grants, reads, a withdrawal, a refusal, a purge."""
    return [
        event(
            EventName.REQUESTED,
            T0,
            request_id="req-1",
            verifier=DESK,
            purpose=PURPOSE,
            legal_basis=BASIS,
            attributes=["address"],
        ),
        granted("c-1", T0 + 10, max_uses=3, frequency=3600, retention=7 * DAY),
        released("c-1", T0 + 100, 1),
        released("c-1", T0 + 100 + 3600, 2),
        event(EventName.REFUSED, T0 + 200, request_id="req-2", verifier=DESK, purpose=PURPOSE),
        granted("c-2", T0 + 300, verifier="https://other.example"),
        released("c-2", T0 + DAY, 1, verifier="https://other.example"),
        ended(EventName.WITHDRAWN, "c-1", T0 + 2 * DAY),
        purged("c-1", T0 + 3 * DAY),
        refused_read(T0 + 4 * DAY, "consent_withdrawn"),
    ]


@dataclass
class Log:
    """A log: its events, its note key, and the witnesses that may cosign it."""

    events: list[bytes]
    key: NoteKey = field(default_factory=lambda: NoteKey.generate(ORIGIN))
    witnesses: list[CosignerKey] = field(default_factory=list)

    @property
    def origin(self) -> str:
        return self.key.name

    @property
    def size(self) -> int:
        return len(self.events)

    def leaf_hashes(self, size: int | None = None) -> list[bytes]:
        return [merkle.leaf_hash(e) for e in self.events[: self.size if size is None else size]]

    def root(self, size: int | None = None) -> bytes:
        tree = merkle.TreeHasher()
        for leaf in self.leaf_hashes(size):
            tree.add_leaf_hash(leaf)
        return tree.root()

    def checkpoint(
        self,
        size: int | None = None,
        *,
        cosigners: Iterable[CosignerKey] = (),
        key: NoteKey | None = None,
    ) -> bytes:
        size = self.size if size is None else size
        body = Checkpoint(self.origin, size, self.root(size))
        note = sign_checkpoint(body, key or self.key)
        lines = [w.cosign_line(body.body(), T0 + 5 * DAY) for w in cosigners]
        return with_cosignatures(note, lines) if lines else note

    def nodes(self) -> dict[merkle.NodeId, bytes]:
        frontier = merkle.Frontier.empty()
        nodes: dict[merkle.NodeId, bytes] = {}
        for index, leaf in enumerate(self.leaf_hashes()):
            nodes[(0, index)] = leaf
            frontier, done = frontier.append(leaf)
            nodes.update(done)
        return nodes

    def receipt(self, index: int, size: int | None = None) -> Receipt:
        size = self.size if size is None else size
        proof = merkle.build(merkle.inclusion_plan(index, size), self.nodes())
        return Receipt(index=index, proof=tuple(proof), checkpoint=self.checkpoint(size))

    def export(
        self,
        directory: Path,
        *,
        checkpoint: bytes | None = None,
        hidden: Iterable[int] = (),
        older: Sequence[bytes] = (),
        header: Mapping[str, Any] | None = None,
    ) -> Path:
        """Write an export directory of the whole log (by hand, per the documented format)."""
        directory.mkdir(parents=True)
        secret = set(hidden)
        log_json = {"format": "regie-log-export", "version": 1, "origin": self.origin}
        log_json.update({"size": self.size, **(header or {})})
        (directory / "log.json").write_text(json.dumps(log_json))
        (directory / "checkpoint.txt").write_bytes(checkpoint or self.checkpoint())
        lines = [b"" if i in secret else e for i, e in enumerate(self.events)]
        (directory / "events.jsonl").write_bytes(b"".join(line + b"\n" for line in lines))
        (directory / "leaf-hashes.bin").write_bytes(b"".join(self.leaf_hashes()))
        if older:
            (directory / "checkpoints.txt").write_bytes(b"".join(n + b"~~~\n" for n in older))
        return directory


def trusted_file(
    path: Path,
    log: Log,
    *,
    checkpoint: bytes | None = None,
    witnesses: Sequence[CosignerKey] = (),
    quorum: int = 0,
) -> Path:
    path.write_text(
        json.dumps(
            {
                "format": "regie-audit-trust",
                "version": 1,
                "origin": log.origin,
                "logKey": log.key.verifier().vkey(),
                "witnesses": [w.verifier().vkey() for w in witnesses],
                "witnessQuorum": quorum,
                "checkpoint": None if checkpoint is None else checkpoint.decode(),
            }
        )
    )
    return path


__all__ = [
    "BASIS",
    "DAY",
    "DESK",
    "ORIGIN",
    "PURPOSE",
    "T0",
    "Log",
    "clean_events",
    "ended",
    "event",
    "granted",
    "purged",
    "refused_read",
    "released",
    "trusted_file",
]
