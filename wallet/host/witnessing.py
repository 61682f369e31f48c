"""Asking witnesses to cosign the host's checkpoints (C2SP tlog-witness, the log's side).

For each configured witness (``<url> <vkey>``): send the checkpoint with a
consistency proof from the size the witness last cosigned (0 at first, or
the size a ``409`` answer names, then once more), verify the cosignature it
returns against the witness's key, and hand back the line to store. A witness
that is down or refuses is logged and skipped: the checkpoint stands without
its cosignature, and an auditor who requires one sees it missing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass

import httpx

from regie_protocol.errors import RegieError
from regie_protocol.tlog.checkpoint import open_checkpoint, with_cosignatures
from regie_protocol.tlog.note import NoteVerifier
from regie_protocol.tlog.witness_client import request_cosignature_sync

from ..log import store
from ..log.checkpoints import StoredCheckpoint
from ..storage import Database

logger = logging.getLogger("regie.wallet.host")

#: seconds for one witness call
TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class Witness:
    url: str
    verifier: NoteVerifier


#: the size each witness (by URL) last cosigned, as this process knows it
_known_sizes: dict[str, int] = {}


def _proof(db: Database, old: int, new: int) -> list[bytes]:
    if old in (0, new):
        return []
    return db.run(lambda conn: store.consistency_proof(conn, old, new), write=False)


def _line_from(
    witness: Witness, row: StoredCheckpoint, lines: Sequence[str], log: NoteVerifier
) -> str:
    for line in lines:
        if not line.startswith(f"— {witness.verifier.name} "):
            continue
        open_checkpoint(
            with_cosignatures(row.note, [line]), log, witnesses=[witness.verifier], quorum=1
        )
        return line
    raise RegieError(f"the witness {witness.url} sent no cosignature by its key")


def ask_witness(
    db: Database,
    witness: Witness,
    row: StoredCheckpoint,
    log: NoteVerifier,
    *,
    http: httpx.Client | None = None,
) -> str | None:
    """The witness's verified cosignature line on ``row``, or ``None`` (logged) if none.

    ``http`` is the client to use (default: a new one, no redirects, :data:`TIMEOUT`).
    """
    old = _known_sizes.get(witness.url, 0)
    try:
        with (
            nullcontext(http)
            if http is not None
            else httpx.Client(timeout=TIMEOUT, follow_redirects=False)
        ) as client:
            for _ in range(2):
                if old > row.size:
                    logger.warning(
                        "log.witness %s holds size %d, newer than %d", witness.url, old, row.size
                    )
                    return None
                answer = request_cosignature_sync(
                    client,
                    witness.url,
                    old_size=old,
                    proof=_proof(db, old, row.size),
                    checkpoint=row.note,
                )
                if answer.cosigned:
                    line = _line_from(witness, row, answer.cosignatures, log)
                    _known_sizes[witness.url] = row.size
                    return line
                old = answer.witness_size if answer.witness_size is not None else 0
                _known_sizes[witness.url] = old
    except (RegieError, httpx.HTTPError) as exc:
        logger.warning("log.witness %s did not cosign size %d: %s", witness.url, row.size, exc)
    return None


def ask_witnesses(
    db: Database,
    witnesses: Sequence[Witness],
    row: StoredCheckpoint,
    *,
    log: NoteVerifier,
    http: httpx.Client | None = None,
) -> list[tuple[Witness, str]]:
    """Each witness's cosignature line on ``row`` (those that gave one)."""
    lines = []
    for witness in witnesses:
        line = ask_witness(db, witness, row, log, http=http)
        if line is not None:
            lines.append((witness, line))
    return lines


__all__ = ["TIMEOUT", "Witness", "ask_witness", "ask_witnesses"]
