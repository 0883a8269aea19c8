"""A progress bar per large file, on stderr (rich), for the CLI; silent otherwise."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Callable, Iterator

LARGE_FILE_BYTES = 16 << 20


class FileProgress:
    """Hands out byte callbacks that advance one bar per large file."""

    def __init__(self, enabled: bool):
        self.enabled = enabled and sys.stderr.isatty()
        self._progress = None

    def __enter__(self) -> "FileProgress":
        if self.enabled:
            from rich.console import Console
            from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn,
                                       TimeRemainingColumn, TransferSpeedColumn)
            self._progress = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                                      TransferSpeedColumn(), TimeRemainingColumn(),
                                      console=Console(stderr=True), transient=True)
            self._progress.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.stop()

    @contextmanager
    def track(self, label: str, total: int) -> Iterator[Callable[[int], None] | None]:
        """A callback taking byte counts, or None for small files / no bar."""
        if self._progress is None or total < LARGE_FILE_BYTES:
            yield None
            return
        task = self._progress.add_task(label, total=total)
        try:
            yield lambda n: self._progress.advance(task, n)
        finally:
            self._progress.remove_task(task)


def disabled() -> FileProgress:
    return FileProgress(False)
