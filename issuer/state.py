"""The issuer's durable state: retired keys, status list, allocated indices, offers.

The signing key itself lives in its own key file (``regie issuer keygen``).
The state is one JSON file, readable by its owner only (it holds the
pre-authorised codes' hashes and the status of every credential),
changed only inside :meth:`StateFile.transaction`: an exclusive lock, then
write to a temporary file, fsync, atomic rename, fsync of the directory. A
crash leaves either the old or the new state, never a torn file (T30, FI-15).

Why a file and not the database: docs/decisions/0005-issuer-state-file.md.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from regie_protocol.errors import MalformedInput, Misuse, Unavailable
from regie_protocol.private_files import check_private_file, write_private_file

STATE_VERSION = 1


@dataclass
class IssuerState:
    """Plain data; :class:`issuer.issuer.Issuer` gives it meaning."""

    issuer_id: str
    #: public JWKs of retired keys, still published so old credentials verify
    retired_keys: list[dict[str, Any]] = field(default_factory=list)
    #: the encoded status list (``{"bits": .., "lst": ..}``) and its size
    status_list: dict[str, Any] | None = None
    status_list_size: int = 0
    #: a 1-bit list marking indices ever handed out (never reused, T23)
    allocated: dict[str, Any] | None = None
    #: pending pre-authorised codes: code hash -> offer
    offers: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": STATE_VERSION,
                "issuer_id": self.issuer_id,
                "retired_keys": self.retired_keys,
                "status_list": self.status_list,
                "status_list_size": self.status_list_size,
                "allocated": self.allocated,
                "offers": self.offers,
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str) -> IssuerState:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise MalformedInput(f"the issuer state file is not JSON ({exc.msg})") from exc
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            raise MalformedInput(f"the issuer state file is not version {STATE_VERSION}")
        return cls(
            issuer_id=data["issuer_id"],
            retired_keys=list(data.get("retired_keys", [])),
            status_list=data.get("status_list"),
            status_list_size=int(data.get("status_list_size", 0)),
            allocated=data.get("allocated"),
            offers=dict(data.get("offers", {})),
        )


class StateFile:
    """One issuer's state on disk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock_path = path.with_name(path.name + ".lock")

    def exists(self) -> bool:
        return self.path.exists()

    def load(self) -> IssuerState:
        if not self.path.exists():
            raise Misuse(f"no issuer state at {self.path}: run 'regie issuer init' first")
        check_private_file(self.path)
        try:
            return IssuerState.from_json(self.path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise Unavailable(f"cannot read {self.path}: {exc.strerror}") from exc

    def create(self, state: IssuerState) -> None:
        with self._locked():
            if self.path.exists():
                raise Misuse(f"an issuer state already exists at {self.path}")
            write_private_file(self.path, state.to_json())

    @contextlib.contextmanager
    def transaction(self) -> Iterator[IssuerState]:
        """Load, let the caller change, save atomically — or save nothing if it raises."""
        with self._locked():
            state = self.load()
            yield state
            write_private_file(self.path, state.to_json())

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


__all__ = ["IssuerState", "StateFile", "check_private_file", "write_private_file"]
