"""The wallet host's consent log: an RFC 9162 Merkle tree of events in the wallet database.

* :mod:`~wallet.log.appender` appends an event inside the transaction of the
  action it records (its last write), so both commit or neither does;
* :mod:`~wallet.log.store` reads events, leaf hashes, roots and proofs;
* :mod:`~wallet.log.checkpoints` signs checkpoints (never two of one size,
  never one that does not extend what was signed before) and makes receipts;
* :mod:`~wallet.log.keys` keeps the log's own Ed25519 signing key.

The formats (events, the tree, notes, checkpoints, receipts) are in
:mod:`regie_protocol.tlog`; the tables in :mod:`wallet.storage.models`.
"""

from .appender import (
    NO_SUBJECT,
    Appended,
    append,
    append_raw,
    ensure_log,
    lock_log,
    subject_of,
)
from .checkpoints import (
    Published,
    PublishedState,
    StoredCheckpoint,
    add_cosignature,
    checkpoint_at_or_after,
    latest_checkpoint,
    receipt,
    receipts,
    sign_checkpoint,
)
from .keys import LOG_KEY_FILE_NAME, create_log_key, load_log_key, load_or_create_log_key
from .store import (
    EventRow,
    TreeHead,
    consistency_proof,
    event_at,
    events,
    head,
    inclusion_proof,
    inclusion_proofs,
    leaf_hashes,
    root_at,
)

__all__ = [
    "LOG_KEY_FILE_NAME",
    "NO_SUBJECT",
    "Appended",
    "EventRow",
    "Published",
    "PublishedState",
    "StoredCheckpoint",
    "TreeHead",
    "add_cosignature",
    "append",
    "append_raw",
    "checkpoint_at_or_after",
    "consistency_proof",
    "create_log_key",
    "ensure_log",
    "event_at",
    "events",
    "head",
    "inclusion_proof",
    "inclusion_proofs",
    "latest_checkpoint",
    "leaf_hashes",
    "load_log_key",
    "load_or_create_log_key",
    "lock_log",
    "receipt",
    "receipts",
    "root_at",
    "sign_checkpoint",
    "subject_of",
]
