"""Import a wallet export into an unlocked wallet, in one transaction, never undoing a revocation.

::

    summary = import_wallet(wallet, file_bytes, VaultPassphrase("..."), now=now)

Which wallet may take an export (the rule for "an export of another wallet"):

* the wallet that made it (same owner id), or a wallet restored from it (it
  holds a sealed ``restored_from`` record naming the exporting wallet; the
  record is exported too, so the lineage carries over to later restores);
* any other wallet only while it is EMPTY: no records and no consents. That is
  a restore onto a new machine: ``regie wallet init`` there, then import.

Anything else is refused: "this export belongs to another wallet (W); import it
into a new, empty wallet". Merging two different citizens' wallets is not a
restore.

What an import does, all in ONE transaction (or nothing, on any refusal):

* records: every record is sealed again under this wallet's master key (new
  record ids, same kind, ref, payload and times); a record already here with the
  same kind, ref and payload is skipped, so importing twice adds nothing;
* trusted issuers the wallet does not have yet are added (existing ones kept);
* the verifier registry is added when there is none, and replaces the stored one
  only when it has the same registrar key and a higher version (never an older
  list, see :mod:`wallet.registry_store`);
* consents and history events not here yet are added, with their status
  allocations; a status index already allocated here is refused (an index is
  never reused). A consent already here never moves back (T26): an ended
  consent (withdrawn, revoked, expired, refused) stays ended even when the
  export says ``given``; a consent that ended in the export ends here too, with
  its event, and its status bit is set INVALID in the host's list;
* a status bit that is INVALID in the export or here ends INVALID;
* what the wallet host serves from (:mod:`wallet.export_host`, export version
  2): a consent's ``holder_jwk`` is filled in where it is missing here, its
  ``last_used_at`` and ``uses`` only grow; a sealed release is added, or
  replaces the one here when it was sealed later (and the record of which
  credentials it was made from, :data:`~wallet.releases.RELEASE_SOURCE_KIND`,
  follows the release that stays); verifiers' requests are added with their
  state, and a request here moves forward only (pending, expired, answered).

A deleted record that is still in an older export comes back with it: an
export is a backup. Consent states and status bits, however, only move forward.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, func, insert, select, update
from sqlmodel import col

from regie_protocol import consent as ct
from regie_protocol._encoding import dumps_compact
from regie_protocol.errors import ClaimRefused, Code, MalformedInput
from regie_protocol.keys import PublicKey, public_key_from_jwk
from regie_protocol.registry import parse_registry, verify_registry
from regie_protocol.statuslist import Status

from . import consent_status
from .core import UnlockedWallet
from .export import ExportDocument, decrypt_export
from .export_host import (
    check_holder_key,
    check_releases,
    check_requests,
    holder_jwk_json,
    merge_releases,
    merge_requests,
)
from .releases import RELEASE_SOURCE_KIND
from .storage import (
    Consent,
    ConsentEvent,
    ConsentEventName,
    ConsentState,
    Record,
    StatusAllocation,
    StatusList,
    TrustedIssuer,
)
from .storage import Registry as RegistryRow
from .trust import parse_jwks
from .vault import VaultPassphrase

ORIGIN_KIND = "restored_from"
_ENDED = frozenset(
    {ConsentState.WITHDRAWN, ConsentState.REVOKED, ConsentState.EXPIRED, ConsentState.REFUSED}
)
_REVOKED = frozenset({ConsentState.WITHDRAWN, ConsentState.REVOKED})
_EVENT_FOR = {
    ConsentState.WITHDRAWN: ConsentEventName.WITHDRAWN,
    ConsentState.REVOKED: ConsentEventName.REVOKED,
    ConsentState.EXPIRED: ConsentEventName.EXPIRED,
    ConsentState.REFUSED: ConsentEventName.REFUSED,
    ConsentState.SUSPENDED: ConsentEventName.SUSPENDED,
}


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What an import changed."""

    source_wallet: str
    records_added: int
    records_present: int
    consents_added: int
    consents_ended: int
    events_added: int
    issuers_added: int
    registry: str  # "added", "updated", "kept" or "none"
    releases_added: int
    releases_replaced: int
    requests_added: int
    requests_answered: int

    def to_json(self) -> dict[str, Any]:
        return {
            "source_wallet": self.source_wallet,
            "records_added": self.records_added,
            "records_present": self.records_present,
            "consents_added": self.consents_added,
            "consents_ended": self.consents_ended,
            "events_added": self.events_added,
            "issuers_added": self.issuers_added,
            "registry": self.registry,
            "releases_added": self.releases_added,
            "releases_replaced": self.releases_replaced,
            "requests_added": self.requests_added,
            "requests_answered": self.requests_answered,
        }


def _refuse(message: str) -> ClaimRefused:
    return ClaimRefused(message, code=Code.CLAIM_INVALID)


def _bad(what: str, reason: str) -> MalformedInput:
    return MalformedInput(f"the export's {what} {reason}")


def _time(value: Any, what: str, *, optional: bool = False) -> int | None:
    if optional and value is None:
        return None
    if type(value) is not int or not 0 <= value < 2**53:
        raise _bad(what, "is not a time in epoch seconds")
    return value


def _text(value: Any, what: str, most: int) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= most:
        raise _bad(what, f"is not a string of 1 to {most} characters")
    return value


def _canonical(
    kind: str, ref: str | None, payload: Mapping[str, Any]
) -> tuple[str, str | None, str]:
    return kind, ref, json.dumps(payload, sort_keys=True, separators=(",", ":"))


# --- checking values ---------------------------------------------------------------


def _check_records(doc: ExportDocument) -> None:
    for i, r in enumerate(doc.records):
        _text(r["kind"], f"records[{i}].kind", 64)
        if r["ref"] is not None:
            _text(r["ref"], f"records[{i}].ref", 512)
        if not isinstance(r["payload"], dict):
            raise _bad(f"records[{i}].payload", "is not a JSON object")
        _time(r["created_at"], f"records[{i}].created_at")
        _time(r["updated_at"], f"records[{i}].updated_at")


def _check_consents(doc: ExportDocument) -> None:
    seen: dict[str, ct.ConsentClaims] = {}
    for i, c in enumerate(doc.consents):
        where = f"consents[{i}]"
        consent_id = _text(c["id"], f"{where}.id", 128)
        if consent_id in seen:
            raise _bad(where, f"repeats consent {consent_id}")
        _text(c["verifier_id"], f"{where}.verifier_id", 512)
        if c["state"] not in {s.value for s in ConsentState}:
            raise _bad(f"{where}.state", f"{c['state']!r} is not a consent state")
        list_id = _text(c["status_list_id"], f"{where}.status_list_id", 128)
        suffix = list_id.removeprefix(consent_status.LIST_PREFIX)
        if not (list_id.startswith(consent_status.LIST_PREFIX) and suffix.isdigit()):
            raise _bad(f"{where}.status_list_id", f"{list_id!r} is not a consent status list")
        idx = c["status_idx"]
        if type(idx) is not int or not 0 <= idx < consent_status.LIST_SIZE:
            raise _bad(f"{where}.status_idx", "is not an index in a consent status list")
        for name in ("granted_at", "expires_at"):
            _time(c[name], f"{where}.{name}")
        _time(c["ended_at"], f"{where}.ended_at", optional=True)
        if type(c["uses"]) is not int or c["uses"] < 0:
            raise _bad(f"{where}.uses", "is not a count")
        if not isinstance(c["token"], str):
            raise _bad(f"{where}.token", "is not a string")
        claims = ct.claims_from_json(ct.parse_consent(c["token"]).unverified_claims)
        path = consent_status.STATUS_LIST_PATH + list_id
        if (
            claims.jti != consent_id
            or claims.aud != c["verifier_id"]
            or claims.status.idx != idx
            or not claims.status.uri.endswith(path)
            or claims.exp != c["expires_at"]
        ):
            raise _bad(where, "does not match its token (id, verifier, status or expiry)")
        check_holder_key(c, claims, where)
        seen[consent_id] = claims
    for i, e in enumerate(doc.consent_events):
        if e["consent_id"] not in seen:
            raise _bad(f"consent_events[{i}]", "names a consent the export does not hold")
        if e["name"] not in {n.value for n in ConsentEventName}:
            raise _bad(f"consent_events[{i}].name", f"{e['name']!r} is not a consent event")
        _time(e["at"], f"consent_events[{i}].at")
        if not isinstance(e["detail"], dict):
            raise _bad(f"consent_events[{i}].detail", "is not a JSON object")
    allocated = {(c["status_list_id"], c["status_idx"]) for c in doc.consents}
    for i, s in enumerate(doc.status):
        if (s["list_id"], s["idx"]) not in allocated:
            raise _bad(f"status[{i}]", "is not the status entry of an exported consent")
        if s["value"] not in (int(Status.VALID), int(Status.INVALID), int(Status.SUSPENDED)):
            raise _bad(f"status[{i}].value", "is not 0, 1 or 2")
    check_releases(doc.releases, seen)
    check_requests(doc.requests, seen.keys())


def _check_trust(doc: ExportDocument) -> tuple[int, PublicKey] | None:
    """Check issuers and the registry; ``(registry version, registrar key)`` or None."""
    for i, issuer in enumerate(doc.trusted_issuers):
        _text(issuer["issuer_id"], f"trusted_issuers[{i}].issuer_id", 512)
        parse_jwks(issuer["jwks"])
        _time(issuer["added_at"], f"trusted_issuers[{i}].added_at")
    if doc.registry is None:
        return None
    key = public_key_from_jwk(doc.registry["registrar_jwk"], registering=True)
    token = doc.registry["document"]
    if not isinstance(token, str):
        raise _bad("registry.document", "is not a string")
    _time(doc.registry["loaded_at"], "registry.loaded_at")
    iat = parse_registry(token).unverified_registry.iat
    registry = verify_registry(token, registrar_keys=key, now=iat, min_version=None)
    return registry.version, key


def check_document(doc: ExportDocument) -> tuple[int, PublicKey] | None:
    """Every value check an import makes before touching storage (typed refusals).

    Returns the exported registry's version and registrar key (None without one).
    """
    _check_records(doc)
    _check_consents(doc)
    return _check_trust(doc)


# --- merging -----------------------------------------------------------------------------


def _empty(conn: Connection, owner: str) -> bool:
    for table in (Record, Consent):
        found = conn.execute(
            select(func.count()).select_from(table).where(col(table.owner) == owner)
        ).scalar_one()
        if found:
            return False
    return True


def _merge_trust(
    conn: Connection,
    wallet: UnlockedWallet,
    doc: ExportDocument,
    checked: tuple[int, PublicKey] | None,
    now: int,
) -> tuple[int, str]:
    owner = wallet.owner
    have = set(
        conn.execute(
            select(col(TrustedIssuer.issuer_id)).where(col(TrustedIssuer.owner) == owner)
        ).scalars()
    )
    added = 0
    for issuer in doc.trusted_issuers:
        if issuer["issuer_id"] in have:
            continue
        text = json.dumps(issuer["jwks"], separators=(",", ":"), sort_keys=True)
        conn.execute(
            insert(TrustedIssuer).values(
                owner=owner, issuer_id=issuer["issuer_id"], jwks=text, added_at=issuer["added_at"]
            )
        )
        have.add(issuer["issuer_id"])
        added += 1
    if checked is None or doc.registry is None:
        return added, "none"
    version, key = checked
    values = {
        "owner": owner,
        "registrar_jwk": json.dumps(key.to_jwk(), separators=(",", ":"), sort_keys=True),
        "document": doc.registry["document"],
        "loaded_at": now,
    }
    row = (
        conn.execute(select(RegistryRow).where(col(RegistryRow.owner) == owner)).mappings().first()
    )
    if row is None:
        conn.execute(insert(RegistryRow).values(**values))
        return added, "added"
    stored_key = public_key_from_jwk(json.loads(row["registrar_jwk"]))
    stored_version = parse_registry(str(row["document"])).unverified_registry.version
    if stored_key != key or version <= stored_version:
        return added, "kept"
    conn.execute(update(RegistryRow).where(col(RegistryRow.owner) == owner).values(**values))
    return added, "updated"


def _ensure_lists(conn: Connection, list_ids: Iterable[str], now: int) -> None:
    for list_id in sorted(set(list_ids)):
        row = conn.execute(
            select(col(StatusList.bits), col(StatusList.size)).where(col(StatusList.id) == list_id)
        ).first()
        if row is None:
            size = consent_status.LIST_SIZE
            conn.execute(
                insert(StatusList).values(
                    id=list_id,
                    bits=consent_status.LIST_BITS,
                    size=size,
                    lst=bytes((size * consent_status.LIST_BITS + 7) // 8),
                    iat=now,
                )
            )
        elif (row[0], row[1]) != (consent_status.LIST_BITS, consent_status.LIST_SIZE):
            raise _refuse(f"the status list {list_id} here is not a consent status list")


def _rank(state: ConsentState) -> int:
    return 2 if state in _ENDED else 1 if state is ConsentState.SUSPENDED else 0


def _event_key(consent_id: str, name: str, at: int, detail: Mapping[str, Any]) -> tuple[str, ...]:
    return consent_id, name, str(at), json.dumps(detail, sort_keys=True, separators=(",", ":"))


def _merge_consents(
    conn: Connection, wallet: UnlockedWallet, doc: ExportDocument, now: int
) -> tuple[int, int, int]:
    owner = wallet.owner
    ids = [c["id"] for c in doc.consents]
    local = {
        str(r["id"]): r
        for r in conn.execute(select(Consent).where(col(Consent.id).in_(ids))).mappings()
    }
    exported_bits = {(s["list_id"], s["idx"]): int(s["value"]) for s in doc.status}
    _ensure_lists(conn, (c["status_list_id"] for c in doc.consents), now)
    added = ended = 0
    moved: dict[str, ConsentState] = {}
    for c in doc.consents:
        where = (c["status_list_id"], c["status_idx"])
        row = local.get(c["id"])
        if row is not None:
            if row["owner"] != owner:
                raise _refuse(f"consent {c['id']} belongs to another wallet in this database")
            if (row["status_list_id"], int(row["status_idx"])) != where:
                raise _refuse(f"consent {c['id']} has another status entry here than in the export")
            mine, theirs = ConsentState(row["state"]), ConsentState(c["state"])
            if _rank(theirs) > _rank(mine):
                ended_at = None
                if theirs in _ENDED:
                    ended_at = c["ended_at"] if c["ended_at"] is not None else now
                conn.execute(
                    update(Consent)
                    .where(col(Consent.id) == c["id"], col(Consent.owner) == owner)
                    .values(state=theirs.value, ended_at=ended_at)
                )
                moved[c["id"]] = theirs
                ended += theirs in _ENDED
            _merge_use(conn, owner, c, row)
            final = moved.get(c["id"], mine)
        else:
            taken = conn.execute(
                select(col(StatusAllocation.idx)).where(
                    col(StatusAllocation.status_list_id) == where[0],
                    col(StatusAllocation.idx) == where[1],
                )
            ).first()
            if taken is not None:
                raise _refuse(
                    f"status index {where[1]} of list {where[0]} is already in use here "
                    f"(consent {c['id']}): an index is never used twice"
                )
            conn.execute(
                insert(StatusAllocation).values(
                    status_list_id=where[0], idx=where[1], allocated_at=c["granted_at"]
                )
            )
            conn.execute(
                insert(Consent).values(
                    owner=owner, **{**c, "holder_jwk": holder_jwk_json(c["holder_jwk"])}
                )
            )
            added += 1
            final = ConsentState(c["state"])
        current = consent_status.get_status(conn, where[0], where[1])
        values = {current, exported_bits.get(where, current)}
        if final in _REVOKED or int(Status.INVALID) in values:
            wanted = int(Status.INVALID)
        elif final is ConsentState.SUSPENDED:
            wanted = int(Status.SUSPENDED)
        else:
            wanted = current if row is not None else exported_bits.get(where, current)
        if wanted != current:
            consent_status.set_status(conn, where[0], where[1], Status(wanted), now=now)
    events = _merge_events(conn, owner, doc, moved, now)
    return added, ended, events


def _merge_use(conn: Connection, owner: str, consent: Mapping[str, Any], row: RowMapping) -> None:
    """Uses and the last read only grow; a missing holder key is filled in."""
    values: dict[str, Any] = {}
    if consent["uses"] > int(row["uses"]):
        values["uses"] = consent["uses"]
    last, here = consent["last_used_at"], row["last_used_at"]
    if last is not None and (here is None or last > int(here)):
        values["last_used_at"] = last
    if row["holder_jwk"] is None and consent["holder_jwk"] is not None:
        values["holder_jwk"] = holder_jwk_json(consent["holder_jwk"])
    if values:
        conn.execute(
            update(Consent)
            .where(col(Consent.id) == consent["id"], col(Consent.owner) == owner)
            .values(**values)
        )


def _merge_events(
    conn: Connection,
    owner: str,
    doc: ExportDocument,
    moved: Mapping[str, ConsentState],
    now: int,
) -> int:
    ids = [c["id"] for c in doc.consents]
    have = {
        _event_key(str(r["consent_id"]), str(r["name"]), int(r["at"]), json.loads(r["detail"]))
        for r in conn.execute(
            select(ConsentEvent).where(
                col(ConsentEvent.owner) == owner, col(ConsentEvent.consent_id).in_(ids)
            )
        ).mappings()
    }
    rows: list[dict[str, Any]] = []
    for e in doc.consent_events:
        key = _event_key(e["consent_id"], e["name"], e["at"], e["detail"])
        if key not in have:
            have.add(key)
            rows.append({**e, "owner": owner, "detail": dumps_compact(e["detail"]).decode()})
    names = {(k[0], k[1]) for k in have}
    for consent_id, state in moved.items():
        name = _EVENT_FOR[state].value
        if (consent_id, name) not in names:
            detail = dumps_compact({"by": "import"}).decode()
            rows.append(
                {
                    "consent_id": consent_id,
                    "owner": owner,
                    "name": name,
                    "at": now,
                    "detail": detail,
                }
            )
    for row in rows:
        conn.execute(insert(ConsentEvent).values(**row))
    return len(rows)


def _prepare_records(
    wallet: UnlockedWallet, doc: ExportDocument, now: int
) -> tuple[list[dict[str, Any]], int]:
    """Records to insert (sealed here, before the transaction) and how many are already here.

    Release sources (kind :data:`~wallet.releases.RELEASE_SOURCE_KIND`) are among
    them; :func:`_insert_records` keeps only those of releases the import brings.
    """
    kinds = {r["kind"] for r in doc.records}
    present = {
        _canonical(s.kind, s.ref, s.payload) for kind in sorted(kinds) for s in wallet.find(kind)
    }
    rows: list[dict[str, Any]] = []
    skipped = 0
    for r in doc.records:
        key = _canonical(r["kind"], r["ref"], r["payload"])
        if key in present:
            skipped += 1
            continue
        present.add(key)
        _, values = wallet.insert_values(r["kind"], r["payload"], now=now, ref=r["ref"])
        values.update(created_at=r["created_at"], updated_at=r["updated_at"])
        rows.append(values)
    if doc.wallet != wallet.owner and not _origins(wallet) & {doc.wallet}:
        _, values = wallet.insert_values(
            ORIGIN_KIND, {"wallet": doc.wallet, "exported_at": doc.exported_at, "at": now}, now=now
        )
        rows.append(values)
    return rows, skipped


def _insert_records(
    conn: Connection, owner: str, records: Sequence[dict[str, Any]], brought: Collection[str]
) -> int:
    """Insert the prepared records; how many (the restore's origin record not counted).

    The release source of a consent whose release this import added or replaced
    replaces the one here; that of a release kept here is left out.
    """
    added = 0
    for values in records:
        if values["kind"] == RELEASE_SOURCE_KIND:
            if values["ref"] not in brought:
                continue
            conn.execute(
                delete(Record).where(
                    col(Record.owner) == owner,
                    col(Record.kind) == RELEASE_SOURCE_KIND,
                    col(Record.ref) == values["ref"],
                )
            )
        conn.execute(insert(Record).values(**values))
        added += values["kind"] != ORIGIN_KIND
    return added


def _origins(wallet: UnlockedWallet) -> set[str]:
    return {str(r.payload.get("wallet")) for r in wallet.find(ORIGIN_KIND)}


def restore(wallet: UnlockedWallet, doc: ExportDocument, *, now: int) -> ImportSummary:
    """Merge a decrypted export into ``wallet`` (see the module docstring for the rules)."""
    registry_checked = check_document(doc)
    related = doc.wallet == wallet.owner or doc.wallet in _origins(wallet)
    records, skipped = _prepare_records(wallet, doc, now)

    def work(conn: Connection) -> ImportSummary:
        if not related and not _empty(conn, wallet.owner):
            raise _refuse(
                f"this export belongs to another wallet ({doc.wallet}); "
                "import it into a new, empty wallet"
            )
        issuers, registry = _merge_trust(conn, wallet, doc, registry_checked, now)
        consents, ended, events = _merge_consents(conn, wallet, doc, now)
        releases, replaced, brought = merge_releases(conn, wallet.owner, doc.releases)
        requests, answered = merge_requests(conn, wallet.owner, doc.requests)
        added = _insert_records(conn, wallet.owner, records, brought)
        return ImportSummary(
            source_wallet=doc.wallet,
            records_added=added,
            records_present=skipped,
            consents_added=consents,
            consents_ended=ended,
            events_added=events,
            issuers_added=issuers,
            registry=registry,
            releases_added=releases,
            releases_replaced=replaced,
            requests_added=requests,
            requests_answered=answered,
        )

    return wallet.db.run(work)


def import_wallet(
    wallet: UnlockedWallet, data: bytes, passphrase: VaultPassphrase, *, now: int
) -> ImportSummary:
    """Decrypt, check and merge an export file's bytes into ``wallet`` in one transaction."""
    return restore(wallet, decrypt_export(data, passphrase), now=now)


def imported_origins(wallet: UnlockedWallet) -> Sequence[str]:
    """The wallets this one was restored from."""
    return sorted(_origins(wallet))


__all__ = [
    "ORIGIN_KIND",
    "ImportSummary",
    "check_document",
    "import_wallet",
    "imported_origins",
    "restore",
]
