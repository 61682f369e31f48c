"""A C2SP tlog-witness: cosigns a log's checkpoints that are consistent with what it saw before.

The witness keeps, per trusted log (origin -> the log's verifier key), the latest
checkpoint it cosigned, and answers ``POST /add-checkpoint`` exactly as the spec
says (200 with cosignature lines, 400, 403, 404, 409 with its size, 422). A log
asks it with :mod:`regie_protocol.tlog.witness_client`. Only add-checkpoint is
spoken (not the optional sign-subtree); cosignatures are Ed25519
``cosignature/v1`` (type 0x04).

* :mod:`~audit.witness.checks`: what to answer (pure);
* :mod:`~audit.witness.store`: the state in SQLite, checked and updated atomically;
* :mod:`~audit.witness.service`: :class:`Witness` = key + store + clock;
* :mod:`~audit.witness.app`: the HTTP service;
* :mod:`~audit.witness.keys`: the cosigner key file.

Run it with ``regie audit witness serve``.
"""

from .app import create_app
from .checks import Conflict, Cosigned, SubmissionRefused
from .keys import create_witness_key, load_witness_key
from .service import Clock, Witness, system_clock
from .store import LatestCheckpoint, RefusedSubmission, TrustedLog, WitnessStore

__all__ = [
    "Clock",
    "Conflict",
    "Cosigned",
    "LatestCheckpoint",
    "RefusedSubmission",
    "SubmissionRefused",
    "TrustedLog",
    "Witness",
    "WitnessStore",
    "create_app",
    "create_witness_key",
    "load_witness_key",
    "system_clock",
]
