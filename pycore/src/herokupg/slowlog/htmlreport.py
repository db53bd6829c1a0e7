"""The slow-query report as one self-contained HTML page (``herokupg slow-queries --format html``).

Charts are drawn by matplotlib into SVG and inlined in the page, which Jinja2 renders from
``templates/report.html.j2`` with its CSS inline: no script, style sheet, font or image is
loaded from anywhere. Both libraries come with the ``report`` extra (``pip install
'herokupg[report]'``); nothing else imports this module, so module runs and the text and JSON
reports never load them.

matplotlib takes about as long to import and warm up as the parser needs for 15 MB of log,
so the CLI starts a :class:`BackgroundRenderer` before it reads: a worker process
imports the libraries meanwhile, then draws the page from a small :class:`PageInput`.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from herokupg import __version__
from herokupg.slowlog.report import SlowQueryReport
from herokupg.slowlog.timeline import Point

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

EXTRA = "report"
MIN_HISTOGRAM_MS = 1e-3
WIDTH_INCHES = 7.6
HISTOGRAM_BINS = 40
TOP_CHART = 10
CHART_POINTS = 150  # at most this many bins on the time charts: wider ones when the log is longer
LABEL_CHARS = 48
# matplotlib settings for every chart: text stays text (the page's font, a smaller file); a fixed
# salt for the ids it hashes, so that they stay the same from run to run.
_STYLE: dict[str, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "herokupg",
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e3e6ea",
    "axes.edgecolor": "#8a9199",
}
_COLOURS = ["#4c6ef5", "#f59f00", "#e03131", "#2f9e44"]
_NO_METADATA = {"Format": None, "Type": None, "Creator": None, "Date": None}
_ID_REFERENCE = re.compile(r'(\bid="|="#|url\(#)([^")]+)')


class MissingExtraError(RuntimeError):
    """matplotlib or Jinja2 is not installed."""


def missing_libraries() -> str | None:
    """What to install for --format html, or None: found without importing anything."""
    from importlib.util import find_spec

    missing = []
    for name in ("matplotlib", "jinja2"):
        try:
            found = find_spec(name) is not None
        except ValueError:  # in sys.modules as None: imports of it fail
            found = False
        if not found:
            missing.append(name)
    if missing:
        return f"--format html needs {' and '.join(missing)}: pip install 'herokupg[{EXTRA}]'"
    return None


def load_libraries() -> tuple[Any, tuple[Any, Any]]:
    try:
        import jinja2
        import markupsafe
        import matplotlib
        import matplotlib.figure  # the bulk of the import time: at once, not in the first chart
    except ImportError as exc:
        raise MissingExtraError(missing_libraries() or str(exc)) from None
    return matplotlib, (jinja2, markupsafe)


@contextmanager
def _figure(matplotlib: Any, height: float = 2.8, left: float = 0.75) -> Iterator[tuple[Figure, Axes]]:
    """A figure with one axes, ``left`` inches of margin for the y labels. Fixed margins, not a
    layout engine: that would draw every chart twice."""
    from cycler import cycler
    from matplotlib.figure import Figure

    style = {**_STYLE, "axes.prop_cycle": cycler(color=_COLOURS)}
    with matplotlib.rc_context(style):
        figure = Figure(figsize=(WIDTH_INCHES, height))
        figure.subplots_adjust(
            left=left / WIDTH_INCHES, right=0.98, bottom=0.55 / height, top=1 - 0.12 / height
        )
        yield figure, figure.add_subplot()


def _plain_log_axis(axis: Any) -> None:
    """Log-scale tick labels as plain numbers (1, 10, 0.01): clearer than 10^k, and drawn without
    matplotlib's math text engine, which costs more than the rest of a chart. No minor ticks: the
    grid follows the decades, and each minor tick is an artist to build and draw."""
    from matplotlib.ticker import FuncFormatter, NullLocator

    axis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:g}"))
    axis.set_minor_locator(NullLocator())


def _svg(figure: Figure, title: str, salt: str) -> str:
    """The figure as an ``<svg>`` element for the page: no XML declaration or DOCTYPE, and its element
    ids (and the references to them) prefixed with ``salt``. matplotlib numbers the ids of its groups
    per figure (``axes_1``...), so they would repeat across the charts of one page."""
    out = io.StringIO()
    figure.savefig(out, format="svg", metadata={**_NO_METADATA, "Title": title})
    text = out.getvalue()
    text = text[text.index("<svg"):]
    return _ID_REFERENCE.sub(lambda m: f"{m.group(1)}{salt}-{m.group(2)}", text)


def _times(ax: Axes, points: Sequence[Point]) -> Any:
    """The bins' start times as matplotlib's date numbers, the x axis labelled concisely in UTC."""
    from matplotlib import dates

    untyped: Any = dates  # matplotlib.dates has no type annotations
    locator = untyped.AutoDateLocator(tz=UTC)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(untyped.ConciseDateFormatter(locator, tz=UTC))
    return untyped.date2num([p.start for p in points])


def _rate_chart(matplotlib: Any, points: Sequence[Point], width: int) -> str:
    from matplotlib.ticker import FuncFormatter

    with _figure(matplotlib) as (figure, ax):
        x = _times(ax, points)
        rates = [p.per_minute for p in points]
        ax.fill_between(x, rates, step="post", alpha=0.35, linewidth=0)
        ax.step(x, rates, where="post", linewidth=1)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:,.0f}"))
        ax.set_ylabel("slow queries / minute")
        ax.set_xlabel(f"time (UTC), {_width_text(width)} bins")
        ax.set_ylim(bottom=0)
        return _svg(figure, "Slow queries per minute", "rate")


def _percentile_chart(matplotlib: Any, points: Sequence[Point], width: int) -> str:
    with _figure(matplotlib) as (figure, ax):
        x = _times(ax, points)
        for label, values in (("p50", [p.p50_ms for p in points]), ("p95", [p.p95_ms for p in points]),
                              ("p99", [p.p99_ms for p in points])):
            ax.plot(x, values, label=label, linewidth=1.2, marker="." if len(points) < 40 else None)
        ax.set_yscale("log")
        _plain_log_axis(ax.yaxis)
        ax.set_ylabel("duration (ms)")
        ax.set_xlabel(f"time (UTC), {_width_text(width)} bins")
        ax.legend(loc="upper left", ncols=3, frameon=False)
        return _svg(figure, "Duration percentiles over time", "percentiles")


def _top_chart(matplotlib: Any, rows: Sequence[dict[str, Any]]) -> str:
    shown = list(rows[:TOP_CHART])
    labels = [f"#{i} {_short(r['query'])}" for i, r in enumerate(shown, 1)]
    left = 0.3 + 0.068 * max((len(label) for label in labels), default=0)  # 8 pt monospace characters
    with _figure(matplotlib, height=0.9 + 0.28 * max(len(shown), 1), left=left) as (figure, ax):
        totals = [r["total_ms"] / 1000.0 for r in shown]
        ax.barh(range(len(shown)), totals, color=_COLOURS[0])
        ax.set_yticks(range(len(shown)), labels, fontfamily="monospace", fontsize=8)
        ax.invert_yaxis()
        ax.grid(axis="y", visible=False)
        ax.set_xlabel("total time (s)")
        return _svg(figure, "Top fingerprints by total time", "top")


def _histogram_chart(matplotlib: Any, edges: Sequence[float], counts: Sequence[int]) -> str:
    with _figure(matplotlib) as (figure, ax):
        if counts:
            ax.stairs(counts, edges, fill=True, color=_COLOURS[1])
            ax.set_xscale("log")
            _plain_log_axis(ax.xaxis)
        ax.set_xlabel("duration (ms, log scale)")
        ax.set_ylabel("slow queries")
        return _svg(figure, "Duration histogram", "histogram")


def histogram(report: SlowQueryReport, bins: int = HISTOGRAM_BINS) -> tuple[list[float], list[int]]:
    """Every duration of ``report`` in ``bins`` log-spaced bins: their edges and counts (the
    durations past a fingerprint's exact cap at their histogram bucket's middle)."""
    weighted = [pair for group in report.groups.values() for pair in group.durations.weighted()]
    if not weighted:
        return [], []
    low = max(min(v for v, _ in weighted), MIN_HISTOGRAM_MS)
    high = max(max(v for v, _ in weighted), low * 1.01)
    step = math.log(high / low) / bins
    counts = [0] * bins
    for value, count in weighted:
        index = int(math.log(max(value, low) / low) / step) if value > low else 0
        counts[min(index, bins - 1)] += count
    return [low * math.exp(step * i) for i in range(bins + 1)], counts


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= LABEL_CHARS else flat[: LABEL_CHARS - 1] + "…"


def _width_text(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def _ms_text(value: float) -> str:
    if value == 0:
        return "0"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.1f}" if value >= 1 else f"{value:.3f}"


def _count_text(value: int) -> str:
    return f"{value:,}"


@dataclass(frozen=True)
class PageInput:
    """Everything the page needs, small and picklable (for the worker process)."""

    data: dict[str, Any]
    source: str
    show_values: bool
    points: list[Point]
    width: int
    edges: list[float]
    counts: list[int]
    by_total: list[dict[str, Any]]  # the top fingerprints by total time, whatever the table's order


def page_input(
    data: dict[str, Any], report: SlowQueryReport, *, source: str, show_values: bool = False
) -> PageInput:
    """The page's input from ``data`` (:meth:`SlowQueryReport.as_dict` of ``report``, which was built
    with a timeline); ``source`` names what was read. No plotting library needed."""
    width, points = report.timeline.points(CHART_POINTS) if report.timeline is not None else (60, [])
    edges, counts = histogram(report)
    return PageInput(data, source, show_values, points, width, edges, counts, report.rows("total", TOP_CHART))


@cache
def _template() -> Any:
    _, (jinja2, _markupsafe) = load_libraries()
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
        autoescape=True, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )
    environment.filters.update(ms=_ms_text, count_text=_count_text)
    return environment.get_template("report.html.j2")


def warm_up() -> None:
    """Import the libraries and compile the template (what the worker does while the log is read)."""
    load_libraries()
    import matplotlib.backends.backend_svg
    import matplotlib.dates
    import matplotlib.ticker  # noqa: F401

    _template()


def render_page(page: PageInput) -> str:
    matplotlib, (_jinja2, markupsafe) = load_libraries()
    data, points, width = page.data, page.points, page.width
    charts = [
        ("Slow queries per minute", _rate_chart(matplotlib, points, width)),
        ("Duration percentiles over time (p50, p95, p99)", _percentile_chart(matplotlib, points, width)),
        ("Top fingerprints by total time", _top_chart(matplotlib, page.by_total)),
        ("Duration histogram", _histogram_chart(matplotlib, page.edges, page.counts)),
    ]
    text: str = _template().render(
        data=data, summary=data["summary"], source=page.source, version=__version__,
        show_values=page.show_values, charts=[(title, markupsafe.Markup(svg)) for title, svg in charts],
        generated=datetime.now(UTC).isoformat(timespec="seconds"), bin_width=_width_text(width),
    )
    return text


def render(data: dict[str, Any], report: SlowQueryReport, *, source: str, show_values: bool = False) -> str:
    """The page, drawn in this process."""
    return render_page(page_input(data, report, source=source, show_values=show_values))


def _serve(connection: Any) -> None:
    """The worker: warm up, draw the one page it is sent, hand it back, and leave at once. Skipping
    the interpreter's teardown (tens of milliseconds with matplotlib loaded) is the point of
    ``os._exit``: the CLI waits for this process before it exits."""
    import os

    # numpy's OpenBLAS starts a thread per core at import (0.1 s of CPU here) that the charts never
    # use, and that would take the second core from the CLI reading the log.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        warm_up()
        page = connection.recv()
        try:
            result: str | BaseException = render_page(page)
        except Exception as exc:  # handed to the CLI, which raises it
            result = exc
        connection.send(result)
    except (EOFError, OSError):
        pass  # the CLI is gone or gave up: nothing to hand back
    finally:
        connection.close()
        os._exit(0)


class BackgroundRenderer:
    """A worker process that imports the libraries now and draws the page later; in this process
    when no worker can start (or it dies), so the page comes out either way."""

    def __init__(self) -> None:
        import multiprocessing

        self._worker: Any = None
        self._connection: Any = None
        try:  # spawn: a fresh interpreter, safe whatever this process holds (threads, sockets)
            context = multiprocessing.get_context("spawn")
            self._connection, theirs = context.Pipe()
            worker = context.Process(target=_serve, args=(theirs,), name="herokupg-html", daemon=True)
            worker.start()
            self._worker = worker
            theirs.close()
        except (OSError, ValueError, RuntimeError):
            self.close()

    def render(self, page: PageInput) -> str:
        if self._worker is not None:
            try:
                self._connection.send(page)
                result = self._connection.recv()
            except (EOFError, OSError):  # the worker died: draw here
                result = None
            self._stop(drawn=True)
            if isinstance(result, BaseException):
                raise result
            if isinstance(result, str):
                return result
        return render_page(page)

    def close(self) -> None:
        """Stop the worker; one that has drawn nothing (the CLI stopped before the page) at once."""
        self._stop(drawn=False)

    def _stop(self, *, drawn: bool) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        worker, self._worker = self._worker, None
        if worker is not None:
            if not drawn:
                worker.terminate()
            worker.join(5)  # after its page it leaves on its own
            if worker.is_alive():
                worker.kill()
                worker.join()

    def __enter__(self) -> BackgroundRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
