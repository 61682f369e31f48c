"""What the witness decides about an add-checkpoint request (C2SP tlog-witness): pure, no I/O.

The request goes through three steps, each narrowing what it is:

1. :func:`read_submission`: the body parses (old size line, at most 63 proof lines, a
   blank line, a checkpoint note) -> :class:`UnverifiedSubmission`; else 400;
2. :func:`verify_submission` with the keys the witness trusts for the checkpoint's
   origin: none -> 404; no signature by a trusted key, or a trusted key's signature
   that fails -> 403; old size above the checkpoint size -> 400 ->
   :class:`VerifiedSubmission`;
3. :func:`decide`, against the latest checkpoint the witness cosigned for the origin
   (run inside the store's transaction): old size not that size -> 409
   (:class:`Conflict`); otherwise the 422 checks (a size-0 checkpoint whose root is not
   the empty tree's, a proof sent with old size 0, two roots for one size, a consistency
   proof that does not verify) and, when all pass, the cosignature
   (:class:`Cosigned`) and the new state to store.

A refusal is a :class:`SubmissionRefused` carrying the status the spec prescribes; a
422 is also returned as a :class:`~audit.witness.store.RefusedSubmission` to keep as
evidence (the log signed something inconsistent, or sent a bad proof).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from regie_protocol.errors import Code, LogRefused, MalformedInput, Misuse, Refused
from regie_protocol.tlog import merkle
from regie_protocol.tlog.checkpoint import Checkpoint, with_cosignatures
from regie_protocol.tlog.note import (
    CosignerKey,
    Note,
    NoteVerifier,
    b64decode_std,
    check_key_name,
    parse_note,
    verified_by,
)
from regie_protocol.tlog.witness_wire import AddCheckpoint

from .store import MAX_STORED_INT, LatestCheckpoint, RefusedSubmission, Write

#: the most consistency proof lines a request may carry (the spec: a client MUST NOT send more)
MAX_PROOF_LINES = 63

_DETAILS: dict[Code, str] = {
    Code.KEY_UNKNOWN: "The checkpoint carries no signature by a key trusted for the log.",
    Code.SIGNATURE_INVALID: "A signature by a key trusted for the log does not verify.",
    Code.LOG_INCONSISTENT: "The checkpoint is not consistent with the one this witness cosigned.",
    Code.LOG_PROOF_INVALID: "The consistency proof does not fit the sizes in the request.",
    Code.LOG_SPLIT_VIEW: "The checkpoint has another root than the one of the same size cosigned.",
}
_MALFORMED_DETAIL = "The request body is not a well-formed add-checkpoint request."
_UNKNOWN_LOG_DETAIL = "This witness does not cosign checkpoints of this log."


class SubmissionRefused(Refused):
    """The witness will not cosign: ``status`` is the HTTP status the spec prescribes.

    ``detail`` is what the client is told (fixed per kind of refusal); the message,
    with the numbers, is for the witness's own log.
    """

    def __init__(self, message: str, *, code: Code, status: int, detail: str = "") -> None:
        super().__init__(message, code=code)
        self.status = status
        self.detail = detail or _DETAILS.get(code, _MALFORMED_DETAIL)


class UnknownLog(SubmissionRefused):
    """The checkpoint's origin is not a log the witness trusts (404)."""

    def __init__(self, origin: str) -> None:
        super().__init__(
            f"no key is trusted for the origin {origin!r}",
            code=Code.KEY_UNKNOWN,
            status=404,
            detail=_UNKNOWN_LOG_DETAIL,
        )
        self.origin = origin


@dataclass(frozen=True, slots=True)
class UnverifiedSubmission:
    """A well-formed request whose signatures and proof are not checked yet."""

    old_size: int
    proof: tuple[bytes, ...]
    note: Note
    unverified_checkpoint: Checkpoint
    body: bytes

    @property
    def origin(self) -> str:
        return self.unverified_checkpoint.origin


@dataclass(frozen=True, slots=True)
class VerifiedSubmission:
    """A request whose checkpoint a trusted key of its log signed; not yet checked for
    consistency with what the witness saw."""

    old_size: int
    proof: tuple[bytes, ...]
    checkpoint: Checkpoint
    #: the note's body as received: what a cosignature signs
    note_text: bytes
    #: the checkpoint note with only the signatures of the trusted log key(s)
    log_note: bytes
    body: bytes


@dataclass(frozen=True, slots=True)
class Cosigned:
    """The witness cosigned: the signature line(s) to answer, the state it stored."""

    lines: tuple[str, ...]
    latest: LatestCheckpoint


@dataclass(frozen=True, slots=True)
class Conflict:
    """The old size is not the size the witness holds (409): retry from ``size``."""

    size: int


def _malformed(error: MalformedInput) -> SubmissionRefused:
    return SubmissionRefused(error.message, code=error.code, status=400)


def _empty_tree_with_another_root(body: bytes) -> UnverifiedSubmission | None:
    """``old 0``, no proof, and a size-0 checkpoint whose well-formed root is not the empty
    tree's; else None.

    The spec answers such a checkpoint with 422 (after the signature checks), but the
    checkpoint parser refuses it outright, so this one form is read here.
    """
    header, blank, note_bytes = body.partition(b"\n\n")
    if header != b"old 0" or not blank:
        return None
    try:
        note = parse_note(note_bytes)
        lines = note.text.decode("utf-8").split("\n")
        if len(lines) != 4 or lines[1] != "0" or lines[3]:
            return None
        check_key_name(lines[0], what="checkpoint origin")
        root = b64decode_std(lines[2], what="the checkpoint root hash")
    except MalformedInput:
        return None
    if len(root) != merkle.HASH_SIZE or root == merkle.EMPTY_ROOT:
        return None
    return UnverifiedSubmission(0, (), note, Checkpoint(lines[0], 0, root), body)


def read_submission(body: bytes) -> UnverifiedSubmission:
    """Parse an add-checkpoint request body; :class:`SubmissionRefused` (400) when malformed.

    An old size above the checkpoint's size is refused here (400) by the parser.
    """
    try:
        request = AddCheckpoint.parse(body)
        note = parse_note(request.checkpoint)
        checkpoint = Checkpoint.parse_body(note.text)
    except MalformedInput as exc:
        odd = _empty_tree_with_another_root(body)
        if odd is None:
            raise _malformed(exc) from None
        return odd
    if len(request.proof) > MAX_PROOF_LINES:  # the parser refuses these too
        raise SubmissionRefused(
            f"{len(request.proof)} proof lines, at most {MAX_PROOF_LINES}",
            code=Code.SIZE_EXCEEDED,
            status=400,
        )
    if checkpoint.size > MAX_STORED_INT:
        raise SubmissionRefused(
            f"the checkpoint size {checkpoint.size} is above 2**63 - 1",
            code=Code.MALFORMED,
            status=400,
        )
    return UnverifiedSubmission(request.old_size, request.proof, note, checkpoint, body)


def verify_submission(
    submission: UnverifiedSubmission, trusted: Sequence[NoteVerifier]
) -> VerifiedSubmission:
    """Check the checkpoint's log signature with ``trusted`` (the keys of its origin).

    404 when ``trusted`` is empty, 403 when no trusted key signed or a trusted key's
    signature fails, 400 when the old size is above the checkpoint size.
    """
    origin = submission.origin
    keys = [key for key in trusted if key.name == origin]
    if not keys:
        raise UnknownLog(origin)
    try:
        signed = verified_by(submission.note, keys)
    except Refused as exc:
        # KEY_UNKNOWN: no trusted key signed; else a trusted key's signature fails (the
        # note is malformed per signed-note): both 403
        code = Code.KEY_UNKNOWN if exc.code is Code.KEY_UNKNOWN else Code.SIGNATURE_INVALID
        raise SubmissionRefused(
            f"the checkpoint of {origin!r}: {exc.message}", code=code, status=403
        ) from None
    checkpoint = submission.unverified_checkpoint
    if submission.old_size > checkpoint.size:
        raise SubmissionRefused(
            f"old size {submission.old_size} is above the checkpoint size {checkpoint.size}",
            code=Code.MALFORMED,
            status=400,
            detail="The old size is larger than the size of the checkpoint.",
        )
    log_signatures = tuple(
        signature
        for signature in submission.note.signatures
        if any(signature.name == key.name and signature.key_id == key.key_id for key in signed)
    )
    log_note = Note(submission.note.text, log_signatures).render()
    return VerifiedSubmission(
        submission.old_size,
        submission.proof,
        checkpoint,
        submission.note.text,
        log_note,
        submission.body,
    )


def _refusal(
    submission: VerifiedSubmission,
    latest: LatestCheckpoint | None,
    now: int,
    code: Code,
    message: str,
) -> tuple[SubmissionRefused, Write]:
    error = SubmissionRefused(message, code=code, status=422)
    evidence = RefusedSubmission(
        origin=submission.checkpoint.origin,
        received_at=now,
        code=code,
        reason=message,
        old_size=submission.old_size,
        stored_size=None if latest is None else latest.size,
        body=submission.body,
    )
    return error, evidence


def _inconsistency(
    submission: VerifiedSubmission, latest: LatestCheckpoint | None
) -> tuple[Code, str] | None:
    """The 422 reason (code, message) for a submission whose old size is the stored size."""
    checkpoint, old, proof = submission.checkpoint, submission.old_size, submission.proof
    if old == 0:
        if proof:
            return Code.LOG_PROOF_INVALID, f"{len(proof)} proof lines with old size 0"
        return None
    assert latest is not None  # old == latest.size > 0
    if old == checkpoint.size:
        if checkpoint.root != latest.root:
            return Code.LOG_SPLIT_VIEW, f"two roots for size {old} of {checkpoint.origin!r}"
        if proof:
            return Code.LOG_PROOF_INVALID, f"{len(proof)} proof lines between equal sizes {old}"
        return None
    try:
        merkle.verify_consistency(old, checkpoint.size, proof, latest.root, checkpoint.root)
    except LogRefused as exc:
        return Code.LOG_INCONSISTENT, f"{old} -> {checkpoint.size}: {exc.message}"
    return None


def decide(
    submission: VerifiedSubmission,
    latest: LatestCheckpoint | None,
    *,
    key: CosignerKey,
    now: int,
) -> tuple[Cosigned | Conflict | SubmissionRefused, Write]:
    """The answer to ``submission`` given the ``latest`` checkpoint cosigned, and what to store.

    ``now`` (POSIX seconds, not zero) is the cosignature's timestamp. Returns the
    refusal rather than raising it, so the store keeps the evidence in the same
    transaction.
    """
    if not 0 < now <= MAX_STORED_INT:
        raise Misuse(f"a cosignature timestamp is 1 .. 2**63 - 1, not {now}")
    checkpoint = submission.checkpoint
    if checkpoint.size == 0 and checkpoint.root != merkle.EMPTY_ROOT:
        return _refusal(
            submission,
            latest,
            now,
            Code.LOG_INCONSISTENT,
            f"a checkpoint of size 0 of {checkpoint.origin!r} with a root not the empty tree's",
        )
    stored_size = 0 if latest is None else latest.size
    if submission.old_size != stored_size:
        return Conflict(stored_size), None
    reason = _inconsistency(submission, latest)
    if reason is not None:
        return _refusal(submission, latest, now, *reason)
    line = key.cosign_line(submission.note_text, now)
    note = with_cosignatures(submission.log_note, [line])
    new = LatestCheckpoint(checkpoint.origin, checkpoint.size, checkpoint.root, note, now)
    return Cosigned((line,), new), new


__all__ = [
    "MAX_PROOF_LINES",
    "Conflict",
    "Cosigned",
    "SubmissionRefused",
    "UnknownLog",
    "UnverifiedSubmission",
    "VerifiedSubmission",
    "decide",
    "read_submission",
    "verify_submission",
]
