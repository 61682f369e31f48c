"""The auditor's trust: which log key, which witnesses, and the last checkpoint it verified.

The trusted file is what ``regie audit trust`` writes and ``regie audit verify``
reads and advances::

    {"format": "regie-audit-trust", "version": 1,
     "origin": "<the log's origin>", "logKey": "<vkey>",
     "witnesses": ["<vkey>", ...], "witnessQuorum": 1,
     "checkpoint": "<signed checkpoint note text>" | null}

The keys come out of band (never from the log being audited). The checkpoint
is the last one this auditor verified; the next verification must show a log
that extends it, which is how rollback and split views are caught. Unknown
members are refused, so a future version cannot be half-read by this one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from regie_protocol.errors import Code, MalformedInput, Misuse
from regie_protocol.private_files import write_private_file
from regie_protocol.tlog.note import (
    MAX_NOTE_BYTES,
    MAX_SIGNATURES,
    SIG_COSIGNATURE_V1,
    SIG_ED25519,
    NoteVerifier,
)

TRUST_FORMAT = "regie-audit-trust"
TRUST_VERSION = 1
MAX_TRUST_FILE_BYTES = 256 * 1024
_MEMBERS = frozenset(
    {"format", "version", "origin", "logKey", "witnesses", "witnessQuorum", "checkpoint"}
)


@dataclass(frozen=True)
class TrustPolicy:
    """The log key and witness policy an auditor accepts, and its last verified checkpoint."""

    log: NoteVerifier
    witnesses: tuple[NoteVerifier, ...] = ()
    quorum: int = 0
    #: the last verified signed checkpoint note (exact bytes), or None before the first run
    checkpoint: bytes | None = None

    def __post_init__(self) -> None:
        if self.log.sig_type != SIG_ED25519:
            raise Misuse(f"the log key {self.log.name} is not an Ed25519 note key (type 0x01)")
        for witness in self.witnesses:
            if witness.sig_type != SIG_COSIGNATURE_V1:
                raise Misuse(f"witness key {witness.name} is not a cosignature/v1 key (type 0x04)")
        if len(set(self.witnesses)) != len(self.witnesses):
            raise Misuse("a witness key is listed twice")
        if len(self.witnesses) > MAX_SIGNATURES:
            raise Misuse(f"at most {MAX_SIGNATURES} witness keys")
        if not 0 <= self.quorum <= len(self.witnesses):
            raise Misuse(
                f"the witness quorum {self.quorum} must be between 0 and the "
                f"{len(self.witnesses)} witness keys given"
            )

    @property
    def origin(self) -> str:
        """The log's origin line: a checkpoint's origin must equal the log key's name."""
        return self.log.name

    def advanced(self, checkpoint: bytes) -> TrustPolicy:
        """The same policy with a newer verified checkpoint."""
        return replace(self, checkpoint=checkpoint)


def default_trust_file(home: Path) -> Path:
    """Where the trusted file lives in Regie's data directory ``home``."""
    return home / "audit" / "trusted.json"


def trust_to_json(policy: TrustPolicy) -> dict[str, Any]:
    return {
        "format": TRUST_FORMAT,
        "version": TRUST_VERSION,
        "origin": policy.origin,
        "logKey": policy.log.vkey(),
        "witnesses": [w.vkey() for w in policy.witnesses],
        "witnessQuorum": policy.quorum,
        "checkpoint": None if policy.checkpoint is None else policy.checkpoint.decode("utf-8"),
    }


def trust_from_json(value: Any) -> TrustPolicy:
    """A trust policy from the trusted file's JSON (``MalformedInput`` on anything odd)."""
    if not isinstance(value, dict):
        raise _bad("it is not a JSON object")
    unknown = sorted(set(value) - _MEMBERS)
    if unknown:
        raise _bad(f"unknown members {unknown}")
    if value.get("format") != TRUST_FORMAT or value.get("version") != TRUST_VERSION:
        raise _bad(f"it is not a {TRUST_FORMAT} file of version {TRUST_VERSION}")
    log_key, witnesses, quorum = (
        value.get("logKey"),
        value.get("witnesses"),
        value.get("witnessQuorum"),
    )
    checkpoint, origin = value.get("checkpoint"), value.get("origin")
    if not isinstance(log_key, str):
        raise _bad("logKey is not a key")
    if not isinstance(witnesses, list) or not all(isinstance(w, str) for w in witnesses):
        raise _bad("witnesses is not a list of keys")
    if type(quorum) is not int:
        raise _bad("witnessQuorum is not a whole number")
    if checkpoint is not None and not isinstance(checkpoint, str):
        raise _bad("checkpoint is not note text")
    if checkpoint is not None and len(checkpoint.encode("utf-8")) > MAX_NOTE_BYTES:
        raise _bad(f"checkpoint is larger than {MAX_NOTE_BYTES} bytes")
    log = NoteVerifier.parse(log_key)
    if origin != log.name:
        raise _bad(f"origin {origin!r} is not the log key's name {log.name!r}")
    try:
        return TrustPolicy(
            log=log,
            witnesses=tuple(NoteVerifier.parse(w) for w in witnesses),
            quorum=quorum,
            checkpoint=None if checkpoint is None else checkpoint.encode("utf-8"),
        )
    except Misuse as exc:
        raise _bad(exc.message) from None


def load_trust(path: Path) -> TrustPolicy:
    """Read the trusted file (``Misuse`` when there is none yet: run ``regie audit trust``)."""
    if not path.is_file():
        raise Misuse(
            f"no trusted file at {path}: run 'regie audit trust --log-key VKEY' first "
            "(with the log key you got out of band)"
        )
    with path.open("rb") as handle:
        data = handle.read(MAX_TRUST_FILE_BYTES + 1)
    if len(data) > MAX_TRUST_FILE_BYTES:
        raise _bad(f"it is larger than {MAX_TRUST_FILE_BYTES} bytes")
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _bad("it is not JSON") from None
    return trust_from_json(value)


def save_trust(path: Path, policy: TrustPolicy) -> None:
    """Write the trusted file atomically (a crash leaves the old file or the new, never half).

    Mode 0600: nobody else on the machine may move the auditor's trust forward.
    """
    write_private_file(path, json.dumps(trust_to_json(policy), indent=2) + "\n")


def _bad(reason: str) -> MalformedInput:
    return MalformedInput(f"the trusted file is damaged: {reason}", code=Code.MALFORMED)


__all__ = [
    "TRUST_FORMAT",
    "TRUST_VERSION",
    "TrustPolicy",
    "default_trust_file",
    "load_trust",
    "save_trust",
    "trust_from_json",
    "trust_to_json",
]
