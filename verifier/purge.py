"""Delete data a verifier may no longer keep, and say what went and why.

For every consent with kept data, in this order:

1. **withdrawn**: the store already knows (its wallet host refused a read
   because the consent is over, :meth:`~verifier.store.VerifierStore.note_ended`;
   no status list is needed then, however fresh the cached copy that still
   says yes), or the consent's status list entry is INVALID now (the citizen
   took the consent back; a host sets the bit in the same transaction as the
   withdrawal);
2. **expired**: the consent's ``exp`` has passed;
3. **retention**: a kept row is past its ``keep_until`` (stored at + the
   retention the consent allows for those attributes; ``P0D`` keeps nothing).

A consent the store does not know has ended and whose status list cannot be
had is reported as *unchecked* (its rows past retention or expiry are still
purged): the purge does not guess
that a consent still stands, and it does not delete what may still be kept.
A SUSPENDED consent keeps its data (it may be reinstated) but is reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from regie_protocol.errors import Refused, Unavailable
from regie_protocol.statuslist import Status

from .status_cache import StatusLists
from .store import ConsentRowState, KeptData, StoredConsent, VerifierStore


class PurgeReason(StrEnum):
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    RETENTION = "retention"


@dataclass(frozen=True, slots=True)
class Purged:
    """One kept row deleted: which, under which consent, its attribute names, and why."""

    kept_id: int
    consent_id: str
    attributes: tuple[str, ...]
    stored_at: int
    reason: PurgeReason

    def to_json(self) -> dict[str, Any]:
        return {
            "keptId": self.kept_id,
            "consent": self.consent_id,
            "attributes": list(self.attributes),
            "storedAt": self.stored_at,
            "reason": self.reason.value,
        }


@dataclass(frozen=True, slots=True)
class PurgeReport:
    """What :func:`purge` did. ``unchecked``: consent id -> why its status is unknown."""

    purged: tuple[Purged, ...]
    remaining: int
    unchecked: tuple[tuple[str, str], ...]
    suspended: tuple[str, ...]

    def by_consent(self) -> dict[str, tuple[str, ...]]:
        """consent id -> the attribute names purged under it (for the purge reports)."""
        names: dict[str, set[str]] = {}
        for item in self.purged:
            names.setdefault(item.consent_id, set()).update(item.attributes)
        return {consent: tuple(sorted(found)) for consent, found in names.items()}

    def to_json(self) -> dict[str, Any]:
        return {
            "purged": [item.to_json() for item in self.purged],
            "remaining": self.remaining,
            "unchecked": [{"consent": c, "reason": r} for c, r in self.unchecked],
            "suspended": list(self.suspended),
        }


def _consent_reason(
    consent: StoredConsent, *, now: int, status: StatusLists
) -> tuple[PurgeReason | None, str | None, bool]:
    """(reason to purge everything, why unchecked, suspended)."""
    if consent.state == ConsentRowState.WITHDRAWN:
        return PurgeReason.WITHDRAWN, None, False
    if consent.state == ConsentRowState.EXPIRED or consent.exp <= now:
        return PurgeReason.EXPIRED, None, False
    try:
        value = status.get(consent.status_uri).list.get(consent.status_idx)
    except (Refused, Unavailable) as exc:
        return None, str(exc), False
    if value == Status.INVALID:
        return PurgeReason.WITHDRAWN, None, False
    return None, None, value == Status.SUSPENDED


def purge(store: VerifierStore, *, now: int, status: StatusLists) -> PurgeReport:
    """Delete kept data under withdrawn or expired consents and past retention; report it."""
    rows = store.kept()
    by_consent: dict[str, list[KeptData]] = {}
    for row in rows:
        by_consent.setdefault(row.consent_jti, []).append(row)
    purged: list[Purged] = []
    unchecked: list[tuple[str, str]] = []
    suspended: list[str] = []
    for jti, kept in sorted(by_consent.items()):
        consent = store.consent(jti)
        if consent is None:  # the foreign key prevents it; purge such rows all the same
            reason: PurgeReason | None = PurgeReason.WITHDRAWN
        else:
            reason, why, is_suspended = _consent_reason(consent, now=now, status=status)
            if why is not None:
                unchecked.append((jti, why))
            if is_suspended:
                suspended.append(jti)
            if reason is PurgeReason.WITHDRAWN and consent.state != ConsentRowState.WITHDRAWN:
                store.set_consent_state(jti, ConsentRowState.WITHDRAWN)
            elif reason is PurgeReason.EXPIRED and consent.state == ConsentRowState.GIVEN:
                store.set_consent_state(jti, ConsentRowState.EXPIRED)
        for row in kept:
            why_row = reason or (PurgeReason.RETENTION if row.keep_until <= now else None)
            if why_row is not None:
                purged.append(Purged(row.id, jti, row.attributes, row.stored_at, why_row))
    store.delete_kept([item.kept_id for item in purged])
    return PurgeReport(
        purged=tuple(purged),
        remaining=len(rows) - len(purged),
        unchecked=tuple(unchecked),
        suspended=tuple(suspended),
    )


__all__ = ["PurgeReason", "PurgeReport", "Purged", "purge"]
