"""Files that hold private keys: written atomically with mode 0600, refused when exposed.

Used by every role that keeps a key on disk (the issuer, the wallet host, a
verifier); file I/O only, no knowledge of what the keys are for.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from .errors import Code, KeyRefused


def check_private_file(path: Path) -> None:
    """Refuse a file holding private keys that others can read or write."""
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyRefused(
            f"{path} is readable or writable by others (mode {stat.S_IMODE(mode):o}); "
            f"run: chmod 600 {path}",
            code=Code.KEY_FILE_EXPOSED,
        )


def write_private_file(path: Path, text: str) -> None:
    """Write ``text`` atomically to ``path`` with mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


__all__ = ["check_private_file", "write_private_file"]
