"""Progress of a long verification: stages with a count, shown as a bar or not at all.

The verification code calls :meth:`Progress.stage` and :meth:`Progress.advance`
and never knows whether anyone watches. :class:`BarProgress` draws a rich bar
on a console (the CLI passes standard error, so ``--json`` output on standard
output stays clean) once a stage is long enough to be worth one, or at once
when that console is a terminal.
"""

from __future__ import annotations

from types import TracebackType
from typing import Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress

#: a stage of more than this many steps gets a bar even when not on a terminal
LARGE_STAGE = 50_000


class Progress(Protocol):
    def stage(self, description: str, total: int) -> None:
        """A new stage of ``total`` steps begins."""

    def advance(self, steps: int) -> None:
        """``steps`` more steps of the current stage are done."""


class SilentProgress:
    """Progress nobody watches."""

    def stage(self, description: str, total: int) -> None:
        return None

    def advance(self, steps: int) -> None:
        return None


SILENT = SilentProgress()


class BarProgress:
    """A rich progress bar on ``console``, started by the first stage that deserves one."""

    def __init__(self, console: Console, *, threshold: int = LARGE_STAGE) -> None:
        self._console = console
        self._threshold = threshold
        self._bar: RichProgress | None = None
        self._task: TaskID | None = None

    def stage(self, description: str, total: int) -> None:
        if self._bar is None:
            if not (self._console.is_terminal or total > self._threshold):
                self._task = None
                return
            self._bar = RichProgress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self._console,
                transient=self._console.is_terminal,
            )
            self._bar.start()
        if self._task is not None:
            self._bar.update(self._task, completed=self._bar.tasks[-1].total)
        self._task = self._bar.add_task(description, total=max(total, 1))

    def advance(self, steps: int) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.advance(self._task, steps)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def __enter__(self) -> BarProgress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


__all__ = ["LARGE_STAGE", "SILENT", "BarProgress", "Progress", "SilentProgress"]
