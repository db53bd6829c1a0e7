"""The progress bar of ``herokupg slow-queries`` on standard error: bytes read, rate, lines (tqdm).

Shown only when standard error is a terminal and ``--quiet`` is not given; imported only then.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TextIO


class ProgressBar:
    """A callable for :func:`herokupg.slowlog.files.split_lines`: ``bar(bytes, lines)`` per block."""

    def __init__(self, total_bytes: int | None, what: str, stream: TextIO | None = None) -> None:
        from tqdm import tqdm

        self.lines = 0
        self._bar = tqdm(
            total=total_bytes, desc=what, unit="B", unit_scale=True, unit_divisor=1024,
            file=stream or sys.stderr, mininterval=0.25, leave=False, dynamic_ncols=True,
        )

    def __call__(self, nbytes: int, nlines: int) -> None:
        self.lines += nlines
        self._bar.set_postfix_str(f"{self.lines:,} lines", refresh=False)
        self._bar.update(nbytes)

    def close(self) -> None:
        self._bar.close()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def wanted(quiet: bool, stream: TextIO | None = None) -> bool:
    """Whether to show a bar: not asked to be quiet, and standard error is a terminal."""
    target = stream or sys.stderr
    return not quiet and target.isatty()
