"""Log lines from a file or stdin holding `heroku logs -p postgres` output.

Apart from the network stream (:mod:`.source`, which needs the API client, httpx and the models), so
that ``herokupg slow-queries --file`` starts without importing them.

Lines are split here from blocks of bytes, never by ``readline``: a line longer than
:data:`MAX_LINE_CHARS` (a statement of hundreds of megabytes on one line, or a file that is no log
at all) is cut there and ends with :data:`~herokupg.slowlog.parse.CUT_MARKER`, and the rest of it
is read and dropped a block at a time. Memory stays bounded whatever the input.
"""

from __future__ import annotations

import codecs
import itertools
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from herokupg.slowlog.parse import CUT_MARKER, MAX_MESSAGE_CHARS

BLOCK_BYTES = 1 << 20
# A statement's cap plus room for the Heroku prefix of its line: the parser then cuts the statement
# itself at MAX_MESSAGE_CHARS.
MAX_LINE_CHARS = MAX_MESSAGE_CHARS + (64 << 10)

Progress = Callable[[int, int], None]  # (bytes read, lines completed) of each block


def iter_file_lines(path: str | Path, *, progress: Progress | None = None) -> Iterator[str]:
    """Lines of a file, or of stdin for ``-``, without their ``\\n`` (bad UTF-8 replaced), streamed."""
    return itertools.chain.from_iterable(iter_file_blocks(path, progress=progress))


def iter_file_blocks(
    path: str | Path, block: int = BLOCK_BYTES, *, progress: Progress | None = None
) -> Iterator[list[str]]:
    """:func:`iter_file_lines` in lists of the lines of about ``block`` bytes: the parser's hot loop
    then takes its lines from a C iterator instead of resuming a generator for every line."""
    if str(path) == "-":
        yield from split_lines(sys.stdin.buffer, block, progress)
        return
    with open(path, "rb") as handle:
        yield from split_lines(handle, block, progress)


def split_lines(
    stream: BinaryIO, block: int = BLOCK_BYTES, progress: Progress | None = None, cap: int = MAX_LINE_CHARS
) -> Iterator[list[str]]:
    """The lines of ``stream``, a list per block read; lines longer than ``cap`` are cut (see above)."""
    decode = codecs.getincrementaldecoder("utf-8")(errors="replace").decode
    read = getattr(stream, "read1", stream.read)  # read1: what a pipe has now, not a full block
    carry = ""  # the start of a line whose end has not been read yet
    skipping = False  # dropping the rest of a line that was cut
    while True:
        raw = read(block)
        text = decode(raw, not raw)
        if skipping:
            end = text.find("\n")
            skipping = end < 0
            text = "" if skipping else text[end + 1:]
        lines = text.split("\n")
        lines[0] = carry + lines[0]
        carry = lines.pop()
        if lines and len(lines[0]) > cap:  # the only complete line that can be longer than a block
            lines[0] = lines[0][:cap] + CUT_MARKER
        if len(carry) > cap:
            lines.append(carry[:cap] + CUT_MARKER)
            carry, skipping = "", True
        if progress is not None:
            progress(len(raw), len(lines))
        if lines:
            yield lines
        if not raw:
            if carry:
                if progress is not None:
                    progress(0, 1)
                yield [carry]
            return
