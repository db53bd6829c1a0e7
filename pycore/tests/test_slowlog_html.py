"""`herokupg slow-queries --format html`, the time series behind its charts, and the progress bar."""

from __future__ import annotations

import dataclasses
import os
import pty
import re
import select
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from herokupg.slowlog import htmlreport
from herokupg.slowlog.report import Analyzer
from herokupg.slowlog.timeline import BATCH, EXACT_CAP, Timeline
from herokupg.slowlog.workload import heroku_lines, statements

START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def workload_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("html") / "heroku.log"
    path.write_text("".join(heroku_lines(statements(3000))))
    return path


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "herokupg.cli", "slow-queries", *args],
        input=stdin, capture_output=True, text=True, timeout=300, check=False,
    )


class Page(HTMLParser):
    """What a browser would fetch or run: every tag and attribute, the text of <style> blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str]] = []
        self.styles: list[str] = []
        self.cells: list[str] = []
        self._in: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += [(name, value or "") for name, value in attrs]
        self._in.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._in and self._in[-1] == tag:
            self._in.pop()

    def handle_data(self, data: str) -> None:
        if self._in and self._in[-1] == "style":
            self.styles.append(data)
        if self._in and self._in[-1] in ("pre", "code"):
            self.cells.append(data)


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    return page


def test_page_is_self_contained_with_four_charts(workload_log: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    done = cli("--file", str(workload_log), "--format", "html", "--output", str(out), "--top", "12")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""  # not a terminal: no progress bar
    html = out.read_text()
    page = parse(html)
    assert page.tags.count("svg") >= 4 and page.tags.count("figure") == 4
    assert {"script", "link", "img", "iframe", "object", "embed"}.isdisjoint(page.tags)
    # nothing fetched: no reference but in-page ones (#id) and the SVG/XLink namespace names
    loads = [(n, v) for n, v in page.attrs if n in ("src", "href", "xlink:href", "srcset", "action", "data")]
    assert all(v.startswith("#") for _, v in loads), loads
    assert not re.search(r"url\(\s*['\"]?(?!#)", "".join(page.styles) + html), "a CSS url() outside the page"
    assert "@import" not in html and "<!DOCTYPE svg" not in html and "<?xml" not in html
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "element ids repeat across the inlined charts"
    titles = ("Slow queries per minute", "Duration percentiles over time", "Top fingerprints by total time",
              "Duration histogram")
    for title in titles:
        assert title in html
    assert html.count("<tr>") == 13  # header + 12 fingerprints
    assert "select * from users where id = ?" in html


def test_examples_are_masked_unless_asked(workload_log: Path) -> None:
    masked = cli("--file", str(workload_log), "--format", "html")
    shown = cli("--file", str(workload_log), "--format", "html", "--show-values")
    assert masked.returncode == shown.returncode == 0
    examples = [text for text in parse(masked.stdout).cells if "FROM accounts WHERE email" in text]
    assert examples and all("@example.com" not in text and "= ?" in text for text in examples)
    assert "@example.com" in shown.stdout
    assert "Constants in the examples are replaced by ?" in masked.stdout
    assert "Constants in the examples are replaced by ?" not in shown.stdout


def test_html_usage_errors_and_missing_extra(workload_log: Path) -> None:
    done = cli("-a", "myapp", "--tail", "--format", "html")
    assert done.returncode == 2 and "--format html" in done.stderr and "--tail" in done.stderr
    # without matplotlib the command says what to install, before reading anything
    blocked = subprocess.run(
        [sys.executable, "-c", "import sys; sys.modules['matplotlib'] = None; from herokupg.cli import main; "
         f"sys.exit(main(['slow-queries', '--format', 'html', '--file', {str(workload_log)!r}]))"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert blocked.returncode == 2 and blocked.stdout == ""
    assert "pip install 'herokupg[report]'" in blocked.stderr


def test_text_reports_and_core_never_import_the_report_extra(workload_log: Path) -> None:
    script = (
        "import sys; from herokupg.cli import main; import herokupg.ops.slow_queries; "
        f"code = main(['slow-queries', '--format', 'json', '--file', {str(workload_log)!r}]); "
        "loaded = [m for m in ('matplotlib', 'jinja2', 'tqdm', 'psycopg') if m in sys.modules]; "
        "print(code, loaded, file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.stderr.strip() == "0 []"


def run_on_a_terminal(*args: str) -> tuple[int, str]:
    """The CLI with its standard error on a pseudo-terminal; its exit code and what it drew there.
    This side keeps the terminal open until it has read everything (else Linux drops the rest)."""
    main, child = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "herokupg.cli", "slow-queries", *args],
                            stdout=subprocess.DEVNULL, stderr=child, stdin=subprocess.DEVNULL)
    drawn = b""
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([main], [], [], 0.2)
            if ready:
                drawn += os.read(main, 65536)
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=60)
    finally:
        os.close(child)
        os.close(main)
    return code, drawn.decode(errors="replace")


def test_progress_bar_on_a_terminal_and_quiet_otherwise(workload_log: Path) -> None:
    code, drawn = run_on_a_terminal("--file", str(workload_log), "--format", "json")
    assert code == 0
    size_kb = workload_log.stat().st_size / 1024
    assert size_kb > 100
    assert re.search(r"heroku\.log: .*100%", drawn), drawn[-500:]  # the file's name, the share read
    assert re.search(r"[\d.]+[kMG]?B/s", drawn) and re.search(r"[\d,]+ lines", drawn), drawn[-500:]
    code, drawn = run_on_a_terminal("--quiet", "--file", str(workload_log), "--format", "json")
    assert code == 0 and drawn == ""


def test_timeline_bins_widen_exactly_and_keep_percentiles() -> None:
    line = Timeline(max_bins=30)
    for second in range(120):  # two minutes, one query a second of 1..120 ms, then 300 more in one second
        line.add((START + timedelta(seconds=second)).isoformat(), float(second + 1))
    for k in range(300):
        line.add((START + timedelta(seconds=59, microseconds=k)).isoformat(), 1000.0)
    width, points = line.points()
    assert line.width == width == 10 and len(points) == 12  # 120 s in 10 s bins (1 s, 2 s: too many)
    assert [p.count for p in points] == [10] * 5 + [310] + [10] * 6
    assert points[0].start == START and points[0].per_minute == 60.0
    assert points[0].p50_ms == 5.5 and points[-1].total_ms == sum(range(111, 121))
    busy = points[5]  # past EXACT_CAP durations: from the histogram, within 5 %
    assert busy.count > EXACT_CAP and busy.p99_ms == pytest.approx(1000.0, rel=0.05)
    assert busy.p50_ms == pytest.approx(1000.0, rel=0.05)


def test_timeline_skips_unreadable_times_and_fills_gaps() -> None:
    line = Timeline()
    line.add("yesterday", 5.0)
    line.add(START.isoformat(), 1.0)
    line.add((START + timedelta(seconds=3)).isoformat(), 2.0)
    _width, points = line.points()
    assert [p.count for p in points] == [1, 0, 0, 1]
    # fewer points asked: wider bins, exact counts; the timeline itself keeps its one-second bins
    wide_width, wide = line.points(max_points=2)
    assert wide_width == 10 and [p.count for p in wide] == [2] and line.width == 1


def test_top_chart_is_by_total_time_whatever_the_table_shows(workload_log: Path) -> None:
    done = cli("--file", str(workload_log), "--format", "html", "--sort", "count", "--top", "2")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("<tr>") == 3  # the table: header + the 2 most frequent
    chart = done.stdout.split("Top fingerprints by total time</figcaption>")[1].split("</figure>")[0]
    assert "#10 " in chart and "#1 vacuum analyze" in chart  # ten bars, the largest total first


def test_page_of_a_log_without_slow_queries_and_of_one_query_from_stdin() -> None:
    line = ("2026-11-25T14:00:00.000000+00:00 app[postgres.1]: [DATABASE] [1-1]  sql_error_code = 00000 "
            "LOG:  duration: 5.0 ms  statement: SELECT 1\n")
    quiet = cli("--file", "-", "--format", "html", "--threshold", "50", stdin=line)
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert "No slow queries found." in quiet.stdout and quiet.stdout.count("<figure>") == 4
    one = cli("--file", "-", "--format", "html", stdin=line)
    assert one.returncode == 0 and one.stderr == "" and "standard input" in one.stdout
    assert "<code>select ?</code>" in one.stdout


def test_no_page_for_input_without_postgres_lines() -> None:
    empty = cli("--file", "-", "--format", "html", stdin="")
    assert empty.returncode == 1 and empty.stdout == ""
    assert "no Heroku Postgres log line in stdin" in empty.stderr


def _small_page() -> htmlreport.PageInput:
    report = Analyzer(timeline=True).feed_all(heroku_lines(statements(200)))
    data = report.as_dict()
    data["summary"]["sort"], data["database"] = "total", None
    return htmlreport.page_input(data, report, source="a test")


def test_background_renderer_draws_the_same_page_here_when_its_worker_dies() -> None:
    page = _small_page()
    with htmlreport.BackgroundRenderer() as renderer:
        drawn_there = renderer.render(page)
    with htmlreport.BackgroundRenderer() as renderer:
        worker = renderer._worker
        assert worker is not None
        worker.kill()
        worker.join()
        drawn_here = renderer.render(page)
    assert renderer._worker is None and not worker.is_alive()

    def stable(html: str) -> str:  # the page says when it was drawn
        return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", "<time>", html)

    assert stable(drawn_here) == stable(drawn_there) and drawn_here.count("<figure>") == 4


def test_background_renderer_raises_what_the_worker_raised() -> None:
    page = _small_page()
    broken = dataclasses.replace(page, by_total=[{}])  # a top-chart row without its query
    with htmlreport.BackgroundRenderer() as renderer, pytest.raises(KeyError, match="query"):
        renderer.render(broken)
    with htmlreport.BackgroundRenderer() as renderer:  # a renderer never used leaves nothing running
        worker = renderer._worker
    assert worker is not None and not worker.is_alive()


def test_timeline_groups_batches_by_second_whatever_their_order() -> None:
    line = Timeline()
    seconds = [s for _ in range(3) for s in (5, 1, 5, 3)] * (BATCH // 4)  # over three batches
    for s in seconds:
        line.add((START + timedelta(seconds=s, microseconds=s)).isoformat(), float(s))
    _width, points = line.points()
    assert [p.count for p in points] == [seconds.count(s) for s in range(1, 6)]
    assert [p.total_ms for p in points] == [float(s * seconds.count(s)) for s in range(1, 6)]
