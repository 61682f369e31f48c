"""What every CLI command shares: the home directory, output, and turning errors into exit codes.

Exit codes: 0 ok, 1 refused or invalid input, 2 usage (wrong arguments, missing
set-up). A refusal is one line on standard error, ``regie: <code>: <reason>``,
never a traceback.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import platformdirs
import typer
from rich.console import Console

from regie_protocol.errors import Misuse, RegieError

P = ParamSpec("P")
R = TypeVar("R")

EXIT_REFUSED = 1
EXIT_USAGE = 2

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def home_dir(option: Path | None) -> Path:
    """``--home``, else ``REGIE_HOME``, else the user's data directory."""
    if option is not None:
        return option
    env = os.environ.get("REGIE_HOME")
    if env:
        return Path(env)
    return Path(platformdirs.user_data_dir("regie", appauthor=False))


def fail(message: str, *, code: int) -> typer.Exit:
    err.print(f"regie: {message}", markup=False, highlight=False)
    return typer.Exit(code)


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Map Regie's exception tree onto one line and an exit code."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except Misuse as exc:
            raise fail(exc.message, code=EXIT_USAGE) from None
        except RegieError as exc:
            raise fail(str(exc), code=EXIT_REFUSED) from None
        except OSError as exc:
            name = f" {exc.filename}" if exc.filename else ""
            raise fail(f"cannot use{name}: {exc.strerror or exc}", code=EXIT_USAGE) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:
            # a bug in Regie: one line for the person, the traceback only on request
            if os.environ.get("REGIE_DEBUG"):
                raise
            raise fail(
                f"internal error ({type(exc).__name__}); run again with REGIE_DEBUG=1 "
                "and report the traceback",
                code=EXIT_REFUSED,
            ) from None

    return wrapper


def read_text_arg(path: Path, *, what: str, max_bytes: int = 1 << 20) -> str:
    """Read a small file given on the command line (``-`` reads standard input)."""
    if str(path) == "-":
        data = sys.stdin.buffer.read(max_bytes + 1)
    else:
        if not path.is_file():
            raise Misuse(f"{what} {path} does not exist or is not a file")
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise Misuse(f"{what} {path} is larger than {max_bytes} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise Misuse(f"{what} {path} is not UTF-8 text") from None


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


__all__ = [
    "EXIT_REFUSED",
    "EXIT_USAGE",
    "err",
    "fail",
    "handle_errors",
    "home_dir",
    "out",
    "print_json",
    "read_text_arg",
]
