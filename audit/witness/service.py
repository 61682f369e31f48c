"""The witness: its cosigner key, its store and its clock, answering add-checkpoint requests.

:meth:`Witness.add_checkpoint` runs the steps of :mod:`audit.witness.checks`; the last
(the check against the stored state, the cosignature and the update) runs inside the
store's ``BEGIN IMMEDIATE`` transaction, so the state never rolls back and the
cosignature is persisted before it is answered. The clock is passed in (integer
POSIX seconds): tests give a fixed one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from regie_protocol.tlog.note import CosignerKey

from .checks import (
    Conflict,
    Cosigned,
    SubmissionRefused,
    decide,
    read_submission,
    verify_submission,
)
from .store import LatestCheckpoint, WitnessStore, Write

Clock = Callable[[], int]

logger = logging.getLogger("regie.witness")


def system_clock() -> int:
    """Now, in whole POSIX seconds."""
    return int(time.time())


@dataclass(frozen=True, slots=True)
class Witness:
    """A witness that cosigns with ``key`` what is consistent with ``store``."""

    key: CosignerKey
    store: WitnessStore
    clock: Clock = system_clock

    def add_checkpoint(self, body: bytes) -> Cosigned | Conflict:
        """Answer one add-checkpoint request body: cosigned, or the size to retry from.

        Raises :class:`~audit.witness.checks.SubmissionRefused` (with the HTTP status
        the spec prescribes) for every refusal; a 422 is kept in the store first.
        """
        unverified = read_submission(body)
        trusted = self.store.trusted_keys(unverified.origin)
        submission = verify_submission(unverified, trusted)
        origin = submission.checkpoint.origin

        def step(
            latest: LatestCheckpoint | None,
        ) -> tuple[Cosigned | Conflict | SubmissionRefused, Write]:
            return decide(submission, latest, key=self.key, now=self.clock())

        answer = self.store.check_and_update(origin, step)
        if isinstance(answer, SubmissionRefused):
            logger.warning(
                "witness.refused origin=%r code=%s: %s", origin, answer.code.value, answer.message
            )
            raise answer
        if isinstance(answer, Cosigned):
            logger.info("witness.cosigned origin=%r size=%d", origin, answer.latest.size)
        return answer


__all__ = ["Clock", "Witness", "system_clock"]
