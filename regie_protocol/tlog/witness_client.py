"""The log's side of C2SP tlog-witness: ask a witness to cosign a checkpoint.

::

    answer = await request_cosignature(client, "https://witness.example", old_size=n,
                                       proof=proof_from_n, checkpoint=signed_note)
    if answer.witness_size is not None:    # 409: the witness holds another size
        ...retry with old_size=answer.witness_size and the proof from that size
    note = with_cosignatures(signed_note, answer.cosignatures)
    open_checkpoint(note, log_key, witnesses=[witness_key], quorum=1)   # verify them

``url`` is the witness's *submission prefix*; the request goes to
``<prefix>/add-checkpoint``. A first request may send ``old_size=0`` and no proof
to learn the witness's size from its 409.

What comes back:

* ``200``: :class:`WitnessAnswer` with the cosignature lines, checked for form only
  (the client does not know which keys to trust: verify them as above);
* ``409``: :class:`WitnessAnswer` with :attr:`~WitnessAnswer.witness_size`, the size
  of the latest checkpoint the witness cosigned (its body ``<size>\\n`` and media type
  ``text/x.tlog.size`` are checked). A size above the log's own is a sign of a split
  view or a rolled-back log: the caller must not ignore it;
* any other ``4xx``, a redirect (never followed), a malformed or oversized answer:
  :class:`WitnessRefused` (a :class:`~regie_protocol.errors.LogRefused`) with the
  status, a code (``404`` ``KEY_UNKNOWN``: the witness does not know the log; ``403``
  ``SIGNATURE_INVALID``; ``400`` ``MALFORMED``; ``422`` ``LOG_INCONSISTENT``, or
  the code named by the witness's problem ``type`` when it is a known one) and the
  witness's problem title in the message;
* a transport failure, a time-out or a ``5xx``:
  :class:`~regie_protocol.errors.Unavailable` (try again later).

The answer is read up to :data:`MAX_ANSWER_BYTES`; time-outs are the
``httpx`` client's.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass

import httpx

from ..errors import Code, LogRefused, MalformedInput, Misuse, Unavailable
from .witness_wire import (
    MAX_RESPONSE_BYTES,
    SIZE_MEDIA_TYPE,
    AddCheckpoint,
    parse_cosignatures,
    parse_size,
)

#: the largest witness answer read (cosignature lines, or a problem document)
MAX_ANSWER_BYTES = MAX_RESPONSE_BYTES
#: the most of a refusal's title quoted in an error message
_MAX_QUOTED = 200
_PROBLEM_PREFIX = "https://regie.example/problems/"
#: the codes a witness's problem ``type`` may name (anything else: the status decides)
_WITNESS_CODES = frozenset(
    {
        Code.MALFORMED,
        Code.SIZE_EXCEEDED,
        Code.KEY_UNKNOWN,
        Code.SIGNATURE_INVALID,
        Code.LOG_INCONSISTENT,
        Code.LOG_PROOF_INVALID,
        Code.LOG_SPLIT_VIEW,
    }
)
_CODE_BY_STATUS = {
    400: Code.MALFORMED,
    403: Code.SIGNATURE_INVALID,
    404: Code.KEY_UNKNOWN,
    422: Code.LOG_INCONSISTENT,
}
_MEANING = {
    400: "the witness found the request malformed",
    403: "the witness found no valid signature by a log key it trusts",
    404: "the witness does not cosign for this log's origin",
    413: "the witness found the request too large",
    422: "the witness found the checkpoint inconsistent with the one it cosigned last",
}


class WitnessRefused(LogRefused):
    """The witness answered, but not with a cosignature or a size: ``status`` says how."""

    def __init__(self, message: str, *, code: Code, status: int) -> None:
        super().__init__(message, code=code)
        self.status = status


@dataclass(frozen=True, slots=True)
class WitnessAnswer:
    """A witness's cosignature lines (200), or the size it holds (409), never both."""

    #: the cosignature lines, each ending in a newline (200); empty on a 409
    cosignatures: tuple[str, ...] = ()
    #: the size of the latest checkpoint the witness cosigned (409); None on a 200
    witness_size: int | None = None

    def __post_init__(self) -> None:
        if bool(self.cosignatures) == (self.witness_size is not None):
            raise Misuse("a witness answer has cosignatures or a size, exactly one")

    @property
    def cosigned(self) -> bool:
        return bool(self.cosignatures)


def _endpoint(url: str) -> str:
    try:
        parts = httpx.URL(url)
    except httpx.InvalidURL:
        raise Misuse(f"{url[:100]!r} is not a URL") from None
    if parts.scheme not in ("http", "https") or not parts.host:
        raise Misuse(f"a witness URL is http(s)://host[/prefix], not {url[:100]!r}")
    if parts.query or parts.fragment:
        raise Misuse("a witness URL (its submission prefix) has no query or fragment")
    return url.rstrip("/") + "/add-checkpoint"


def _body(old_size: int, proof: Sequence[bytes], checkpoint: bytes) -> bytes:
    return AddCheckpoint(old_size=old_size, proof=tuple(proof), checkpoint=checkpoint).render()


def _too_large(where: str, status: int) -> WitnessRefused:
    return WitnessRefused(
        f"the witness at {where} answered {status} with more than {MAX_ANSWER_BYTES} bytes",
        code=Code.SIZE_EXCEEDED,
        status=status,
    )


def _problem_code(data: bytes) -> tuple[Code | None, str]:
    """The known Code of a problem ``type`` and its title (shortened), when the body is one."""
    try:
        problem = json.loads(data)
    except (UnicodeDecodeError, ValueError):
        return None, ""
    if not isinstance(problem, dict):
        return None, ""
    title = problem.get("title")
    shown = (
        title[:_MAX_QUOTED].encode("ascii", "replace").decode() if isinstance(title, str) else ""
    )
    kind = problem.get("type")
    if isinstance(kind, str) and kind.startswith(_PROBLEM_PREFIX):
        named = kind[len(_PROBLEM_PREFIX) :]
        for code in _WITNESS_CODES:
            if code.value == named:
                return code, shown
    return None, shown


def _interpret(where: str, status: int, content_type: str, data: bytes) -> WitnessAnswer:
    """Turn the witness's answer into a :class:`WitnessAnswer` or raise (see the module doc)."""
    if status == 200:
        try:
            lines = parse_cosignatures(data)
        except MalformedInput as exc:
            raise WitnessRefused(
                f"the witness at {where} answered 200 with no cosignature lines: {exc.message}",
                code=exc.code,
                status=status,
            ) from None
        return WitnessAnswer(cosignatures=tuple(lines))
    if status == 409:
        media = content_type.split(";", 1)[0].strip().lower()
        try:
            if media != SIZE_MEDIA_TYPE:
                raise MalformedInput(f"a 409 answer is {SIZE_MEDIA_TYPE}, not {media[:64]!r}")
            size = parse_size(data)
        except MalformedInput as exc:
            raise WitnessRefused(
                f"the witness at {where} answered 409 without its size: {exc.message}",
                code=exc.code,
                status=status,
            ) from None
        return WitnessAnswer(witness_size=size)
    if 300 <= status < 400:
        raise WitnessRefused(
            f"the witness at {where} answered a redirect ({status}); redirects are not "
            "followed: configure the witness's own submission URL",
            code=Code.URL_REFUSED,
            status=status,
        )
    if status >= 500:
        raise Unavailable(f"the witness at {where} failed ({status}); try again later")
    named, title = _problem_code(data)
    meaning = _MEANING.get(status, "the witness refused the request")
    said = f" ({title})" if title else ""
    raise WitnessRefused(
        f"{meaning}: {status} from {where}{said}",
        code=named or _CODE_BY_STATUS.get(status, Code.LOG_ACCESS_REFUSED),
        status=status,
    )


async def _read_async(chunks: AsyncIterator[bytes], where: str, status: int) -> bytes:
    data = bytearray()
    async for chunk in chunks:
        data += chunk
        if len(data) > MAX_ANSWER_BYTES:
            raise _too_large(where, status)
    return bytes(data)


def _read(chunks: Iterator[bytes], where: str, status: int) -> bytes:
    data = bytearray()
    for chunk in chunks:
        data += chunk
        if len(data) > MAX_ANSWER_BYTES:
            raise _too_large(where, status)
    return bytes(data)


_HEADERS = {"Content-Type": "text/plain; charset=utf-8", "Accept": "text/plain"}


async def request_cosignature(
    client: httpx.AsyncClient,
    url: str,
    *,
    old_size: int,
    proof: Sequence[bytes],
    checkpoint: bytes,
) -> WitnessAnswer:
    """POST an add-checkpoint request to the witness at ``url`` (its submission prefix).

    ``checkpoint`` is the signed checkpoint note; ``proof`` the consistency proof from
    ``old_size`` (empty when it is 0). See the module doc for the answers and errors.
    """
    endpoint = _endpoint(url)
    body = _body(old_size, proof, checkpoint)
    try:
        async with client.stream(
            "POST", endpoint, content=body, headers=_HEADERS, follow_redirects=False
        ) as response:
            status = response.status_code
            content_type = response.headers.get("content-type", "")
            data = await _read_async(response.aiter_bytes(), endpoint, status)
    except httpx.HTTPError as exc:
        raise Unavailable(f"cannot reach the witness at {endpoint}: {exc!r}") from None
    return _interpret(endpoint, status, content_type, data)


def request_cosignature_sync(
    client: httpx.Client,
    url: str,
    *,
    old_size: int,
    proof: Sequence[bytes],
    checkpoint: bytes,
) -> WitnessAnswer:
    """:func:`request_cosignature` with a synchronous ``httpx.Client``."""
    endpoint = _endpoint(url)
    body = _body(old_size, proof, checkpoint)
    try:
        with client.stream(
            "POST", endpoint, content=body, headers=_HEADERS, follow_redirects=False
        ) as response:
            status = response.status_code
            content_type = response.headers.get("content-type", "")
            data = _read(response.iter_bytes(), endpoint, status)
    except httpx.HTTPError as exc:
        raise Unavailable(f"cannot reach the witness at {endpoint}: {exc!r}") from None
    return _interpret(endpoint, status, content_type, data)


__all__ = [
    "MAX_ANSWER_BYTES",
    "WitnessAnswer",
    "WitnessRefused",
    "request_cosignature",
    "request_cosignature_sync",
]
