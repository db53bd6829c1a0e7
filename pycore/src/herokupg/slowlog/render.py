"""Text and JSON output of a slow-query report."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any


def _num(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def one_line(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: max(width - 1, 0)] + "…"


COLUMNS = ("#", "total ms", "share", "count", "mean ms", "p95 ms", "max ms")


def plural(count: int, word: str, words: str | None = None) -> str:
    """``1 line``, ``2 lines``."""
    return f"{count} {word if count == 1 else (words or word + 's')}"


def _when(iso: str) -> str:
    """A timestamp to the second: ``2026-05-01 12:00:03+00:00``."""
    try:
        return datetime.fromisoformat(iso).isoformat(sep=" ", timespec="seconds")
    except ValueError:
        return iso


def summary_line(s: dict[str, Any]) -> str:
    span = f", {_when(s['first_seen'])} .. {_when(s['last_seen'])}" if s.get("first_seen") else ""
    queries = plural(s["queries"], "slow query", "slow queries")
    return (
        f"{queries} in {plural(s['fingerprints'], 'fingerprint')}, "
        f"{_num(s['total_ms'])} ms in all{span}; {plural(s['lines'], 'line')} read, "
        f"{s['ignored_lines']} from other sources, {s['malformed_lines']} malformed"
    )


def table(data: dict[str, Any], *, width: int = 120, show_values: bool = False) -> str:
    """A fixed-width table of ``data["queries"]`` and a summary. Each row shows its normalized query,
    or with ``show_values`` an example with its constants."""
    field = "example" if show_values else "query"
    s = data["summary"]
    if not data["queries"]:
        return "No slow queries found.\n\n" + summary_line(s)
    rows = []
    for i, q in enumerate(data["queries"], 1):
        rows.append((
            str(i), _num(q["total_ms"]), f"{q['share'] * 100:.1f}%", str(q["count"]), _num(q["mean_ms"]),
            _num(q["p95_ms"]) + ("" if q["percentiles_exact"] else "~"), _num(q["max_ms"]), q[field],
        ))
    widths = [max([len(COLUMNS[c])] + [len(r[c]) for r in rows]) for c in range(len(COLUMNS))]
    used = sum(w + 2 for w in widths)
    query_width = max(width - used, 20)
    lines = ["  ".join(h.rjust(w) for h, w in zip(COLUMNS, widths, strict=True)) + "  " + field]
    for r in rows:
        cells = [cell.rjust(w) for cell, w in zip(r, widths, strict=False)]
        lines.append("  ".join(cells) + "  " + one_line(r[-1], query_width))
    lines += ["", summary_line(s)]
    return "\n".join(lines)


def to_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=False)
