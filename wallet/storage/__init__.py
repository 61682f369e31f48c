"""The wallet's storage: SQLite by default, PostgreSQL by URL, Alembic migrations at open.

Rows hold opaque sealed bytes from :mod:`wallet.vault` plus the non-secret
columns needed to find them. See :mod:`wallet.storage.engine` for the
transaction rules and :mod:`wallet.storage.models` for the tables.
"""

from ._migrate import current_revision, head_revision
from ._url import ENV_VAR, url_from_environment
from .engine import DEFAULT_ATTEMPTS, DEFAULT_BUSY_TIMEOUT_MS, Database, open_database
from .models import (
    Consent,
    ConsentEvent,
    ConsentEventName,
    ConsentInfo,
    ConsentRequest,
    ConsentState,
    DpopProof,
    IdempotencyEntry,
    LogCheckpoint,
    LogCosignature,
    LogEvent,
    LogHead,
    LogNode,
    LogReader,
    LogReaderRole,
    ReadRefusal,
    Record,
    RecordInfo,
    Registry,
    Release,
    RequestState,
    StatusAllocation,
    StatusList,
    TrustedIssuer,
    Wallet,
    WalletInfo,
)

__all__ = [
    "DEFAULT_ATTEMPTS",
    "DEFAULT_BUSY_TIMEOUT_MS",
    "ENV_VAR",
    "Consent",
    "ConsentEvent",
    "ConsentEventName",
    "ConsentInfo",
    "ConsentRequest",
    "ConsentState",
    "Database",
    "DpopProof",
    "IdempotencyEntry",
    "LogCheckpoint",
    "LogCosignature",
    "LogEvent",
    "LogHead",
    "LogNode",
    "LogReader",
    "LogReaderRole",
    "ReadRefusal",
    "Record",
    "RecordInfo",
    "Registry",
    "Release",
    "RequestState",
    "StatusAllocation",
    "StatusList",
    "TrustedIssuer",
    "Wallet",
    "WalletInfo",
    "current_revision",
    "head_revision",
    "open_database",
    "url_from_environment",
]
