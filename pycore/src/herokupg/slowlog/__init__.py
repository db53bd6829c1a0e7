"""Slow-query reports from Heroku Postgres logs (``heroku logs -p postgres``).

The pipeline streams: :mod:`.source` yields log lines (a log session's Server-Sent Events, a
file, stdin), :mod:`.parse` reassembles Postgres messages from Heroku's ``[N-k]`` lines and
extracts ``duration:`` entries, :mod:`.fingerprint` groups statements that differ only in their
constants, :mod:`.report` aggregates per fingerprint in bounded memory, :mod:`.render` prints.
"""

from __future__ import annotations
