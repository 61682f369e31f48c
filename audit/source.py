"""Where the log under audit comes from: an export directory or a wallet host's log API.

Both sources hand :mod:`audit.verify` the same unverified material: the latest
signed checkpoint, older checkpoints, every leaf hash, the events the auditor
may see (in index order, an empty line for each hidden one) and, for a host,
consistency proofs. Nothing here decides whether the log holds; that is
:func:`audit.verify.verify_log`'s work.

:class:`HostSource` talks to ``/v1/log/...`` through an :class:`httpx.Client`
the caller gives (a test passes one with an ASGI transport), signs a DPoP proof
(RFC 9449, no access token) with the auditor's key for the routes that need
one, and refuses answers larger than a page can be.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from regie_protocol.dpop import create_proof
from regie_protocol.errors import Code, LogRefused, MalformedInput, Misuse, Unavailable
from regie_protocol.keys import SigningKey
from regie_protocol.private_files import check_private_file
from regie_protocol.tlog.checkpoint import Checkpoint
from regie_protocol.tlog.event import MAX_EVENT_BYTES
from regie_protocol.tlog.merkle import HASH_SIZE
from regie_protocol.tlog.note import MAX_NOTE_BYTES, b64decode_std, parse_note

from . import export_dir
from .progress import SILENT, Progress

#: what one request asks for at most (the host's page limits)
LEAF_HASH_PAGE = 4096
EVENT_PAGE = 1024
#: an answer larger than this is refused unread (an event page is at most ~1024 * 8 KiB, escaped)
MAX_ANSWER_BYTES = 32 << 20
MAX_KEY_FILE_BYTES = 64 * 1024
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


class LogSource(Protocol):
    """The unverified log as one source presents it."""

    @property
    def label(self) -> str:
        """Which log, for messages: ``export DIR`` or ``host URL``."""

    def checkpoint(self) -> bytes:
        """The latest signed checkpoint note."""

    def older_checkpoints(self) -> list[bytes]:
        """Earlier signed checkpoint notes, oldest first (may be none)."""

    def leaf_hashes(self, size: int, progress: Progress) -> bytes:
        """Leaf hashes ``0 .. size - 1``, concatenated (``32 * size`` bytes)."""

    def event_lines(self, size: int) -> Iterator[tuple[int, list[bytes]]]:
        """Events ``0 .. size - 1`` as ``(first index, lines)``; an empty line is hidden."""

    def consistency_proof(self, old: int, new: int) -> list[bytes] | None:
        """A consistency proof from ``old`` to ``new`` entries (None: the source has none)."""

    def line_count(self) -> int | None:
        """How many event lines the source holds, when that can differ from the size."""


class ExportSource:
    """An export directory (see :mod:`audit.export_dir`)."""

    def __init__(self, directory: Path) -> None:
        if not directory.is_dir():
            raise Misuse(f"{directory} is not a directory (an export from 'regie audit export')")
        self.directory = directory

    @property
    def label(self) -> str:
        return f"export {self.directory}"

    def checkpoint(self) -> bytes:
        """checkpoint.txt, after checking log.json describes the same tree (unverified)."""
        header = export_dir.read_header(self.directory)
        note = export_dir.read_checkpoint(self.directory)
        body = Checkpoint.parse_body(parse_note(note).text)
        if (header.origin, header.size) != (body.origin, body.size):
            raise LogRefused(
                f"{export_dir.LOG_JSON} describes {header.size} entries of {header.origin!r} "
                f"but {export_dir.CHECKPOINT} is a checkpoint of {body.size} entries of "
                f"{body.origin!r}",
                code=Code.LOG_INCONSISTENT,
            )
        return note

    def older_checkpoints(self) -> list[bytes]:
        return export_dir.read_older_checkpoints(self.directory)

    def leaf_hashes(self, size: int, progress: Progress) -> bytes:
        return export_dir.read_leaf_hashes(self.directory, size)

    def event_lines(self, size: int) -> Iterator[tuple[int, list[bytes]]]:
        return export_dir.iter_event_lines(self.directory)

    def consistency_proof(self, old: int, new: int) -> list[bytes] | None:
        return None  # every leaf hash is here: the old root is recomputed instead

    def line_count(self) -> int | None:
        return export_dir.count_event_lines(self.directory)


def load_auditor_key(path: Path, *, passphrase: str | None = None) -> SigningKey:
    """The auditor's private JWK (a 0600 file; PBES2-encrypted when a passphrase is given)."""
    if not path.is_file():
        raise Misuse(f"the key file {path} does not exist")
    check_private_file(path)
    with path.open("rb") as handle:
        data = handle.read(MAX_KEY_FILE_BYTES + 1)
    if len(data) > MAX_KEY_FILE_BYTES:
        raise Misuse(f"the key file {path} is larger than {MAX_KEY_FILE_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Misuse(f"the key file {path} is not a JWK") from None
    return SigningKey.from_private_jwk_text(text, passphrase=passphrase)


def check_host_url(url: str) -> str:
    """The host's base URL without a trailing slash: https, or http to this machine only."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host or parts.query or parts.fragment:
        raise Misuse(f"--host {url!r} is not an http(s) URL of a wallet host")
    if parts.username is not None or parts.password is not None:
        raise Misuse("--host takes no user name or password")
    if parts.scheme == "http" and host not in _LOOPBACK:
        raise Misuse("--host must be https (plain http only to this machine)")
    return url.rstrip("/")


class HostSource:
    """A wallet host's log API; ``key`` is the auditor's registered key (DPoP), if any."""

    def __init__(
        self,
        base_url: str,
        *,
        client: httpx.Client,
        key: SigningKey | None = None,
        clock: Callable[[], int] = lambda: int(time.time()),
        fresh: bool = False,
    ) -> None:
        self.base_url = check_host_url(base_url)
        self._client = client
        self._key = key
        self._clock = clock
        self._fresh = fresh
        if fresh and key is None:
            raise Misuse("asking the host for a fresh checkpoint needs the auditor's --key")

    @property
    def label(self) -> str:
        return f"host {self.base_url}"

    def checkpoint(self) -> bytes:
        if self._fresh:
            return self._request(
                "POST", "/v1/log/checkpoint", {}, signed=True, limit=MAX_NOTE_BYTES
            )
        return self._request("GET", "/v1/log/checkpoint", {}, signed=False, limit=MAX_NOTE_BYTES)

    def older_checkpoints(self) -> list[bytes]:
        return []  # the host serves the latest only; the trusted checkpoint links runs

    def leaf_hashes(self, size: int, progress: Progress = SILENT) -> bytes:
        progress.stage("Fetching leaf hashes", size)
        out = bytearray()
        start = 0
        while start < size:
            end = min(size, start + LEAF_HASH_PAGE)
            page = self._json("/v1/log/leaf-hashes", {"start": start, "end": end}, signed=False)
            hashes = page.get("leafHashes")
            if page.get("start") != start or not isinstance(hashes, list) or not hashes:
                raise _odd("a leaf-hashes page", f"does not start at {start} or is empty")
            if len(hashes) > end - start:
                raise _odd("a leaf-hashes page", f"has more than the {end - start} asked for")
            for value in hashes:
                out += _hash(value, "a leaf hash")
            start += len(hashes)
            progress.advance(len(hashes))
        return bytes(out)

    def event_lines(self, size: int) -> Iterator[tuple[int, list[bytes]]]:
        if self._key is None:  # the tree is public, the events are not: all hidden
            for start in range(0, size, LEAF_HASH_PAGE):
                yield start, [b""] * (min(size, start + LEAF_HASH_PAGE) - start)
            return
        for start in range(0, size, EVENT_PAGE):
            end = min(size, start + EVENT_PAGE)
            page = self._json("/v1/log/events", {"start": start, "end": end}, signed=True)
            events = page.get("events")
            if page.get("start") != start or not isinstance(events, list):
                raise _odd("an events page", f"does not start at {start}")
            lines = [b""] * (end - start)
            last = start - 1
            for item in events:
                index, text = _event_item(item)
                if not last < index < end:
                    raise _odd("an events page", f"has event {index} out of order or range")
                lines[index - start] = text
                last = index
            yield start, lines

    def consistency_proof(self, old: int, new: int) -> list[bytes] | None:
        page = self._json("/v1/log/proofs/consistency", {"from": old, "to": new}, signed=False)
        proof = page.get("proof")
        if page.get("from") != old or page.get("to") != new or not isinstance(proof, list):
            raise _odd("a consistency proof", f"is not from {old} to {new} entries")
        if len(proof) > 2 * 64:
            raise _odd("a consistency proof", "is longer than any tree needs")
        return [_hash(value, "a consistency proof hash") for value in proof]

    def line_count(self) -> int | None:
        return None  # events come by index: none can shift

    def _json(self, path: str, params: dict[str, int], *, signed: bool) -> dict[str, Any]:
        body = self._request("GET", path, params, signed=signed, limit=MAX_ANSWER_BYTES)
        try:
            value = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise _odd(f"the answer to {path}", "is not JSON") from None
        if not isinstance(value, dict):
            raise _odd(f"the answer to {path}", "is not a JSON object")
        return value

    def _request(
        self, method: str, path: str, params: dict[str, int], *, signed: bool, limit: int
    ) -> bytes:
        url = self.base_url + path
        headers = {}
        if signed:
            if self._key is None:
                raise Misuse(f"{path} needs the auditor's --key")
            headers["DPoP"] = create_proof(self._key, htm=method, htu=url, now=self._clock())
        try:
            with self._client.stream(method, url, params=params, headers=headers) as answer:
                body = _read_limited(answer, limit, path)
                status = answer.status_code
        except httpx.HTTPError as exc:
            raise Unavailable(f"cannot reach {self.base_url}: {type(exc).__name__}") from None
        if status == 200:
            return body
        detail = _problem_detail(body)
        if status in (401, 403):
            raise LogRefused(
                f"the host refused {path} to this key ({status}{detail}); "
                "is it registered as a log reader?",
                code=Code.LOG_ACCESS_REFUSED,
            )
        if status >= 500:
            raise Unavailable(f"the host failed on {path} ({status}{detail})")
        raise MalformedInput(f"the host answered {path} with {status}{detail}")


def _read_limited(answer: httpx.Response, limit: int, path: str) -> bytes:
    body = bytearray()
    for chunk in answer.iter_bytes():
        body += chunk
        if len(body) > limit:
            raise MalformedInput(
                f"the host's answer to {path} is larger than {limit} bytes",
                code=Code.SIZE_EXCEEDED,
            )
    return bytes(body)


def _problem_detail(body: bytes) -> str:
    """``: <title>`` from a problem+json answer, bounded and printable, else nothing."""
    try:
        value = json.loads(body[:4096])
    except (UnicodeDecodeError, json.JSONDecodeError):
        return ""
    title = value.get("title") if isinstance(value, dict) else None
    if not isinstance(title, str):
        return ""
    return ": " + "".join(c for c in title[:200] if c.isprintable())


def _hash(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise _odd(what, "is not base64 text")
    decoded = b64decode_std(value, what=what)
    if len(decoded) != HASH_SIZE:
        raise _odd(what, f"is {len(decoded)} bytes, not {HASH_SIZE}")
    return decoded


def _event_item(item: Any) -> tuple[int, bytes]:
    if not isinstance(item, dict) or set(item) != {"index", "event"}:
        raise _odd("an events page", "has an item that is not {index, event}")
    index, text = item["index"], item["event"]
    if type(index) is not int or not isinstance(text, str) or not text:
        raise _odd("an events page", "has an item with a bad index or event")
    data = text.encode("utf-8", "surrogatepass")
    if len(data) > MAX_EVENT_BYTES or b"\n" in data:
        raise LogRefused(
            f"event {index} from the host cannot be a log event", code=Code.LOG_EVENT_MISMATCH
        )
    return index, data


def _odd(what: str, reason: str) -> MalformedInput:
    return MalformedInput(f"the host's {what} {reason}")


__all__ = [
    "EVENT_PAGE",
    "LEAF_HASH_PAGE",
    "ExportSource",
    "HostSource",
    "LogSource",
    "check_host_url",
    "load_auditor_key",
]
