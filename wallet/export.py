"""A whole wallet as one encrypted, authenticated file: build, encrypt, decrypt, check.

::

    text = export_wallet(wallet, VaultPassphrase("..."), now=now)   # a compact JWE
    doc = decrypt_export(text.encode(), VaultPassphrase("..."))      # ExportDocument

The file is ONE compact JWE (RFC 7516), as the EUDI wallet's export is:
``alg`` ``PBES2-HS512+A256KW`` with ``p2c`` 210,000 (OWASP's PBKDF2-HMAC-SHA512
advice), ``enc`` ``A256GCM``, ``cty`` :data:`EXPORT_CTY`. Its plaintext is a
versioned JSON document (:data:`EXPORT_FORMAT`, version :data:`EXPORT_VERSION`)
holding every record opened (kind, ref, payload, times), the trusted issuers,
the verifier registry, every consent with its token, its history, and the
consent status bits (T26: an authenticated migration object). Version 2 adds
what the wallet host serves from (:mod:`wallet.export_host`): each consent's
``holder_jwk`` and ``last_used_at``, the sealed ``releases`` and the verifiers'
``requests``. A version 1 document still reads: it has none of these, and is
read as if its consents had no holder key and no read yet.

Reading is strict, and every check runs before any PBKDF2 work or storage:
at most :data:`MAX_EXPORT_BYTES`, ASCII, five parts, exactly the protected
header members Regie writes (``p2c`` between 210,000 and 300,000, so a file
cannot make the reader do unbounded work). A wrong passphrase, a flipped bit
and a truncated file are all one refusal (:class:`KeyRefused`); a decrypted
document of an unknown format or version, or of a shape other than the one
written here, is :class:`MalformedInput`. Merging into a wallet is
:mod:`wallet.restore`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select
from sqlmodel import col

from regie_protocol._encoding import b64url_decode, dumps_compact, loads_strict
from regie_protocol.errors import Code, KeyRefused, MalformedInput, Misuse

from . import consent_status
from .consents import note_expired
from .core import UnlockedWallet
from .export_host import RELEASE_MEMBERS, REQUEST_MEMBERS, host_rows
from .inbox import note_expired_requests
from .storage import Consent, ConsentEvent, Record, Registry, TrustedIssuer
from .vault import VaultPassphrase

EXPORT_FORMAT = "regie-wallet-export"
EXPORT_VERSION = 2
#: the versions this Regie reads: 1 (before the wallet host) and 2
READABLE_VERSIONS = (1, 2)
EXPORT_CTY = "regie-wallet-export+json"
EXPORT_ALG = "PBES2-HS512+A256KW"
EXPORT_ENC = "A256GCM"
EXPORT_P2C = 210_000
#: joserfc refuses more; a file cannot ask for more PBKDF2 work than this
MAX_P2C = 300_000
MAX_EXPORT_BYTES = 64 * 1024 * 1024
#: the document nests records' payloads (at most 32 deep) three levels down
MAX_EXPORT_DEPTH = 40
MAX_ITEMS = 1_000_000
_HEADER = frozenset({"alg", "enc", "cty", "p2s", "p2c"})
_ALGORITHMS = (EXPORT_ALG, EXPORT_ENC)
_DAMAGED = "the export passphrase is wrong, or the file is damaged or truncated"


@dataclass(frozen=True, slots=True)
class ExportDocument:
    """A decrypted export whose shape has been checked (values still need the importer's rules).

    A version 1 document is read as version 2 without host data: its consents
    get ``holder_jwk`` and ``last_used_at`` ``None``; ``releases`` and
    ``requests`` are empty.
    """

    version: int
    wallet: str
    exported_at: int
    records: tuple[Mapping[str, Any], ...]
    trusted_issuers: tuple[Mapping[str, Any], ...]
    registry: Mapping[str, Any] | None
    consents: tuple[Mapping[str, Any], ...]
    consent_events: tuple[Mapping[str, Any], ...]
    status: tuple[Mapping[str, Any], ...]
    releases: tuple[Mapping[str, Any], ...]
    requests: tuple[Mapping[str, Any], ...]


# --- building -------------------------------------------------------------------


def _consents(conn: Connection, owner: str) -> dict[str, Any]:
    rows = conn.execute(
        select(Consent)
        .where(col(Consent.owner) == owner)
        .order_by(col(Consent.granted_at), col(Consent.id))
    ).mappings()
    consents = [
        {
            "id": r["id"],
            "verifier_id": r["verifier_id"],
            "state": r["state"],
            "token": r["token"],
            "status_list_id": r["status_list_id"],
            "status_idx": int(r["status_idx"]),
            "granted_at": int(r["granted_at"]),
            "expires_at": int(r["expires_at"]),
            "ended_at": None if r["ended_at"] is None else int(r["ended_at"]),
            "uses": int(r["uses"]),
            "holder_jwk": None
            if r["holder_jwk"] is None
            else loads_strict(str(r["holder_jwk"]).encode("utf-8"), max_depth=4, what="JWK"),
            "last_used_at": None if r["last_used_at"] is None else int(r["last_used_at"]),
        }
        for r in rows
    ]
    events = [
        {
            "consent_id": r["consent_id"],
            "name": r["name"],
            "at": int(r["at"]),
            "detail": loads_strict(str(r["detail"]).encode("utf-8"), max_depth=8, what="event"),
        }
        for r in conn.execute(
            select(ConsentEvent)
            .where(col(ConsentEvent.owner) == owner)
            .order_by(col(ConsentEvent.id))
        ).mappings()
    ]
    status = [
        {
            "list_id": c["status_list_id"],
            "idx": c["status_idx"],
            "value": consent_status.get_status(conn, c["status_list_id"], c["status_idx"]),
        }
        for c in consents
    ]
    issuers = [
        {
            "issuer_id": r["issuer_id"],
            "jwks": loads_strict(str(r["jwks"]).encode("utf-8"), max_depth=8, what="JWKS"),
            "added_at": int(r["added_at"]),
        }
        for r in conn.execute(
            select(TrustedIssuer)
            .where(col(TrustedIssuer.owner) == owner)
            .order_by(col(TrustedIssuer.issuer_id))
        ).mappings()
    ]
    registry = conn.execute(select(Registry).where(col(Registry.owner) == owner)).mappings().first()
    return {
        "trusted_issuers": issuers,
        "registry": None
        if registry is None
        else {
            "registrar_jwk": loads_strict(
                str(registry["registrar_jwk"]).encode("utf-8"), max_depth=4, what="JWK"
            ),
            "document": registry["document"],
            "loaded_at": int(registry["loaded_at"]),
        },
        "consents": consents,
        "consent_events": events,
        "status": status,
        **host_rows(conn, owner),
    }


def build_export(wallet: UnlockedWallet, *, now: int) -> dict[str, Any]:
    """The export document (plaintext: handle it like the vault's contents)."""
    note_expired(wallet, now=now)
    note_expired_requests(wallet.db, now=now, owner=wallet.owner)
    # consents first, records after: a pairwise key always predates its consents
    rest = wallet.db.run(lambda conn: _consents(conn, wallet.owner), write=False)
    kinds = wallet.db.fetch_all(
        select(col(Record.kind)).where(col(Record.owner) == wallet.owner).distinct()
    )
    opened = [r for row in kinds for r in wallet.find(str(row["kind"]))]
    opened.sort(key=lambda r: (r.created_at, r.id))
    records = [
        {
            "kind": r.kind,
            "ref": r.ref,
            "payload": dict(r.payload),
            "created_at": r.created_at,
            "updated_at": r.updated_at,
        }
        for r in opened
    ]
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "wallet": wallet.owner,
        "exported_at": now,
        "records": records,
        **rest,
    }


# --- the JWE ----------------------------------------------------------------------


def _passphrase_key(passphrase: VaultPassphrase) -> Any:
    """The passphrase (NFC, UTF-8) as joserfc's PBES2 input; its HMAC key-size warning is moot."""
    from joserfc.errors import SecurityWarning
    from joserfc.jwk import OctKey

    if not isinstance(passphrase, VaultPassphrase):
        raise Misuse("an export passphrase is a VaultPassphrase")
    if len(passphrase) == 0:
        raise Misuse("an empty passphrase protects nothing")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)
        try:
            return OctKey.import_key(passphrase._utf8())
        except ValueError:
            raise Misuse("this passphrase cannot be used (it looks like a key)") from None


def encrypt_export(document: Mapping[str, Any], passphrase: VaultPassphrase) -> str:
    """``document`` as a compact PBES2 JWE (check the passphrase's strength before)."""
    from joserfc import jwe

    header = {"alg": EXPORT_ALG, "enc": EXPORT_ENC, "cty": EXPORT_CTY, "p2c": EXPORT_P2C}
    plaintext = dumps_compact(document)
    return jwe.encrypt_compact(header, plaintext, _passphrase_key(passphrase), _ALGORITHMS)


def export_wallet(wallet: UnlockedWallet, passphrase: VaultPassphrase, *, now: int) -> str:
    """The whole wallet as one compact JWE under ``passphrase``."""
    return encrypt_export(build_export(wallet, now=now), passphrase)


def _check_header(part: str) -> None:
    header = loads_strict(
        b64url_decode(part, what="export header"), max_depth=2, what="export header"
    )
    if not isinstance(header, dict) or set(header) != _HEADER:
        raise MalformedInput(f"the export header has members other than {sorted(_HEADER)}")
    expected = {"alg": EXPORT_ALG, "enc": EXPORT_ENC, "cty": EXPORT_CTY}
    for name, value in expected.items():
        if header[name] != value:
            raise MalformedInput(f"the export header's {name} is {header[name]!r}, not {value!r}")
    p2c = header["p2c"]
    if type(p2c) is not int or not EXPORT_P2C <= p2c <= MAX_P2C:
        raise MalformedInput(f"the export's p2c is {p2c!r}, not in {EXPORT_P2C}..{MAX_P2C}")
    if not isinstance(header["p2s"], str) or not 16 <= len(b64url_decode(header["p2s"])) <= 64:
        raise MalformedInput("the export's p2s is not a 16 to 64 byte salt")


def decrypt_export(data: bytes, passphrase: VaultPassphrase) -> ExportDocument:
    """Decrypt and check an export file's bytes (whitespace around the JWE is allowed)."""
    from cryptography.exceptions import InvalidTag
    from joserfc import jwe
    from joserfc.errors import JoseError

    if len(data) > MAX_EXPORT_BYTES:
        raise MalformedInput(
            f"an export is at most {MAX_EXPORT_BYTES} bytes", code=Code.SIZE_EXCEEDED
        )
    if not data.isascii():
        raise MalformedInput("this is not a Regie wallet export (not a compact JWE)")
    text = data.decode("ascii").strip()
    parts = text.split(".")
    if len(parts) != 5 or not all(parts[i] for i in (0, 2, 3, 4)):
        raise MalformedInput(
            "this is not a Regie wallet export, or it is truncated (a JWE has five parts)"
        )
    for part in parts:
        b64url_decode(part, what="export")
    _check_header(parts[0])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            plaintext = jwe.decrypt_compact(
                text, _passphrase_key(passphrase), algorithms=_ALGORITHMS
            ).plaintext
    except (JoseError, ValueError, InvalidTag):
        raise KeyRefused(_DAMAGED, code=Code.KEY_INVALID) from None
    return parse_document(plaintext or b"")


# --- checking the document ----------------------------------------------------------


def _object(value: Any, what: str, members: frozenset[str]) -> dict[str, Any]:
    if not isinstance(value, dict) or set(value) != members:
        got = sorted(value) if isinstance(value, dict) else type(value).__name__
        raise MalformedInput(f"the export's {what} must have exactly {sorted(members)}, not {got}")
    return value


def _items(doc: dict[str, Any], name: str, members: frozenset[str]) -> tuple[dict[str, Any], ...]:
    items = doc[name]
    if not isinstance(items, list) or len(items) > MAX_ITEMS:
        raise MalformedInput(f"the export's {name} is not a list of at most {MAX_ITEMS}")
    return tuple(_object(item, f"{name}[{i}]", members) for i, item in enumerate(items))


_TOP_V1 = frozenset(
    {
        "format",
        "version",
        "wallet",
        "exported_at",
        "records",
        "trusted_issuers",
        "registry",
        "consents",
        "consent_events",
        "status",
    }
)
_TOP = _TOP_V1 | {"releases", "requests"}
RECORD_MEMBERS = frozenset({"kind", "ref", "payload", "created_at", "updated_at"})
ISSUER_MEMBERS = frozenset({"issuer_id", "jwks", "added_at"})
REGISTRY_MEMBERS = frozenset({"registrar_jwk", "document", "loaded_at"})
CONSENT_MEMBERS_V1 = frozenset(
    {
        "id",
        "verifier_id",
        "state",
        "token",
        "status_list_id",
        "status_idx",
        "granted_at",
        "expires_at",
        "ended_at",
        "uses",
    }
)
CONSENT_MEMBERS = CONSENT_MEMBERS_V1 | {"holder_jwk", "last_used_at"}
EVENT_MEMBERS = frozenset({"consent_id", "name", "at", "detail"})
STATUS_MEMBERS = frozenset({"list_id", "idx", "value"})


def parse_document(plaintext: bytes) -> ExportDocument:
    """Check a decrypted export's format, version and shape (a version 1 one read as 2)."""
    doc = loads_strict(plaintext, max_depth=MAX_EXPORT_DEPTH, what="wallet export")
    if not isinstance(doc, dict) or doc.get("format") != EXPORT_FORMAT:
        raise MalformedInput(f"this file is not a {EXPORT_FORMAT} document")
    version = doc.get("version")
    if type(version) is not int or version not in READABLE_VERSIONS:
        raise MalformedInput(
            f"this export is version {version!r}; this Regie reads versions "
            f"{', '.join(map(str, READABLE_VERSIONS))}"
        )
    old = version == 1
    _object(doc, "document", _TOP_V1 if old else _TOP)
    wallet, exported_at = doc["wallet"], doc["exported_at"]
    if not isinstance(wallet, str) or not 0 < len(wallet) <= 64:
        raise MalformedInput("the export's wallet id is not a string of 1 to 64 characters")
    if type(exported_at) is not int or exported_at < 0:
        raise MalformedInput("the export's exported_at is not a time")
    registry = doc["registry"]
    if old:
        consents = tuple(
            {**c, "holder_jwk": None, "last_used_at": None}
            for c in _items(doc, "consents", CONSENT_MEMBERS_V1)
        )
        releases: tuple[dict[str, Any], ...] = ()
        requests: tuple[dict[str, Any], ...] = ()
    else:
        consents = _items(doc, "consents", CONSENT_MEMBERS)
        releases = _items(doc, "releases", RELEASE_MEMBERS)
        requests = _items(doc, "requests", REQUEST_MEMBERS)
    return ExportDocument(
        version=version,
        wallet=wallet,
        exported_at=exported_at,
        records=_items(doc, "records", RECORD_MEMBERS),
        trusted_issuers=_items(doc, "trusted_issuers", ISSUER_MEMBERS),
        registry=None if registry is None else _object(registry, "registry", REGISTRY_MEMBERS),
        consents=consents,
        consent_events=_items(doc, "consent_events", EVENT_MEMBERS),
        status=_items(doc, "status", STATUS_MEMBERS),
        releases=releases,
        requests=requests,
    )


__all__ = [
    "EXPORT_ALG",
    "EXPORT_CTY",
    "EXPORT_ENC",
    "EXPORT_FORMAT",
    "EXPORT_P2C",
    "EXPORT_VERSION",
    "MAX_EXPORT_BYTES",
    "READABLE_VERSIONS",
    "ExportDocument",
    "build_export",
    "decrypt_export",
    "encrypt_export",
    "export_wallet",
    "parse_document",
]
