"""The progress bar of ``herokupg slow-queries`` on standard error: bytes read, rate, lines (tqdm).

Shown only when standard error is a terminal and ``--quiet`` is not given; imported only then.
"""

from __future__ import annotations

import os
import sys
from types import TracebackType
from typing import TextIO


class ProgressBar:
    """A callable for :func:`herokupg.slowlog.files.split_lines`: ``bar(bytes, lines)`` per block."""

    def __init__(self, total_bytes: int | None, what: str, stream: TextIO | None = None) -> None:
        from tqdm import tqdm

        target = stream or sys.stderr
        columns, rows = _size(target)
        self.lines = 0
        self._bar = tqdm(
            total=total_bytes, desc=what, unit="B", unit_scale=True, unit_divisor=1024,
            file=target, mininterval=0.25, leave=False, ncols=columns, nrows=rows,
        )

    def __call__(self, nbytes: int, nlines: int) -> None:
        self.lines += nlines
        self._bar.set_postfix_str(f"{self.lines:,} lines", refresh=False)
        self._bar.update(nbytes)

    def close(self) -> None:
        self._bar.refresh()  # the final figures, even when the read took less than one redraw
        self._bar.close()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _size(stream: TextIO) -> tuple[int, int]:
    """The terminal's columns and rows, 100 x 24 where it reports none (a fresh pseudo-terminal):
    tqdm would otherwise draw nothing at all."""
    try:
        size = os.get_terminal_size(stream.fileno())
    except (OSError, ValueError):
        return 100, 24
    return size.columns or 100, size.lines or 24


def wanted(quiet: bool, stream: TextIO | None = None) -> bool:
    """Whether to show a bar: not asked to be quiet, and standard error is a terminal."""
    target = stream or sys.stderr
    return not quiet and target.isatty()
