"""Log lines from a file or stdin holding `heroku logs -p postgres` output.

Apart from the network stream (:mod:`.source`, which needs the API client, httpx and the models), so
that ``herokupg slow-queries --file`` starts without importing them.
"""

from __future__ import annotations

import io
import itertools
import sys
from collections.abc import Iterator
from pathlib import Path

BLOCK_CHARS = 1 << 20


def iter_file_lines(path: str | Path) -> Iterator[str]:
    """Lines of a file, or of stdin for ``-`` (bad UTF-8 replaced, line ends kept), streamed."""
    return itertools.chain.from_iterable(iter_file_blocks(path))


def iter_file_blocks(path: str | Path, block: int = BLOCK_CHARS) -> Iterator[list[str]]:
    """:func:`iter_file_lines` in lists of about ``block`` characters: the parser's hot loop then
    takes its lines from a C iterator instead of resuming a generator for every line."""
    if str(path) == "-":
        stream = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace", newline="")
        yield from iter(lambda: stream.readlines(block), [])
        return
    with open(path, encoding="utf-8", errors="replace", newline="") as handle:
        yield from iter(lambda: handle.readlines(block), [])
