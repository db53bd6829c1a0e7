"""Text and JSON output of a slow-query report."""

from __future__ import annotations

import json
from typing import Any


def _num(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def one_line(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: max(width - 1, 0)] + "…"


COLUMNS = ("#", "total ms", "share", "count", "mean ms", "p95 ms", "max ms", "query")


def table(data: dict[str, Any], *, width: int = 120, field: str = "query") -> str:
    """A fixed-width table of ``data["queries"]`` (``field``: ``query`` or ``example``) and a summary."""
    rows = []
    for i, q in enumerate(data["queries"], 1):
        rows.append((
            str(i), _num(q["total_ms"]), f"{q['share'] * 100:.1f}%", str(q["count"]), _num(q["mean_ms"]),
            _num(q["p95_ms"]) + ("" if q["percentiles_exact"] else "~"), _num(q["max_ms"]), q[field],
        ))
    widths = [max([len(COLUMNS[c])] + [len(r[c]) for r in rows]) for c in range(len(COLUMNS) - 1)]
    used = sum(w + 2 for w in widths)
    query_width = max(width - used, 20)
    lines = ["  ".join(h.rjust(w) for h, w in zip(COLUMNS, widths, strict=False)) + "  query"]
    for r in rows:
        cells = [cell.rjust(w) for cell, w in zip(r, widths, strict=False)]
        lines.append("  ".join(cells) + "  " + one_line(r[-1], query_width))
    s = data["summary"]
    lines.append("")
    span = f", {s['first_seen']} .. {s['last_seen']}" if s.get("first_seen") else ""
    lines.append(
        f"{s['queries']} slow queries in {s['fingerprints']} fingerprints, {_num(s['total_ms'])} ms in all"
        f"{span}; {s['lines']} lines read, {s['ignored_lines']} from other sources, "
        f"{s['malformed_lines']} malformed"
    )
    if not data["queries"]:
        lines.insert(0, "No slow queries found.")
    return "\n".join(lines)


def to_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=False)
