"""pg_stat_statements on the sandbox's postgres engine: `herokupg outliers`, and the independent check
of the slow-query report (its call counts from the logs against pg_stat_statements.calls).

One sandbox for the module: an app whose database runs a small pgbench workload with every
statement logged (log_min_duration_statement = 0) and pg_stat_statements installed, and an app
whose database has not installed it. Values are checked against what the server itself holds,
read as the cluster's admin, never against our own output.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from herokupg_sandbox.pgengine import available
from herokupg_sandbox.pgengine.cluster import ADMIN_USER, Cluster
from herokupg_sandbox.pgengine.pgbench_log import MULTILINE_SCRIPT
from herokupg_sandbox.threaded import RunningSandbox, postgres_sandbox, seed_app, seed_database

from herokupg.api import HerokuAPI
from herokupg.client import HerokuClient
from herokupg.ops.base import Context
from herokupg.ops.settings import ensure_settings
from herokupg.slowlog.fingerprint import normalize

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not available()[0], reason=f"postgres engine unavailable: {available()[1]}"),
]

APP, BARE = "outlierapp", "bareapp"


@dataclass
class Scene:
    sb: RunningSandbox
    url: str  # the app database's URL (with its password)
    cluster: Cluster
    dbname: str
    user: str
    bare_url: str


def cli(sb: RunningSandbox, *args: str, pre: str = "") -> subprocess.CompletedProcess[str]:
    env = {"HEROKU_API_URL": sb.url, "HEROKU_API_KEY": sb.token, "PATH": "/usr/bin:/bin",
           "HOME": "/nonexistent"}
    code = f"{pre}import sys; from herokupg.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300,
                          check=False, env=env)


def pgbench(cluster: Cluster, url: str, args: list[str]) -> None:
    parts = urlsplit(url)
    where = ["-h", parts.hostname or "", "-p", str(parts.port), "-U", parts.username or ""]
    cluster.bins.run("pgbench", [*where, *args, parts.path.lstrip("/")],
                     env={"PGPASSWORD": parts.password or "", "PGAPPNAME": "pgbench"}, timeout=300)


def admin_rows(scene: Scene, sql: str) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` on the app's database, read as the cluster's superuser (not through herokupg)."""
    import psycopg

    with psycopg.connect(host="127.0.0.1", port=scene.cluster.port, user=ADMIN_USER, dbname=scene.dbname,
                         password=scene.cluster.admin_password) as connection:
        return connection.execute(sql).fetchall()  # type: ignore[arg-type]


def pgss(scene: Scene) -> str:
    """FROM ... of pg_stat_statements, the app user's statements only (a generated role name)."""
    assert scene.user.isalnum()
    return f"FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid WHERE r.rolname = '{scene.user}'"


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    with postgres_sandbox(prefix="herokupg-outliers-") as sb:
        for app in (APP, BARE):
            seed_app(sb, app)
            seed_database(sb, app)
        client = HerokuClient(sb.token, api_url=sb.url)
        api = HerokuAPI(client)
        url, bare_url = api.config_vars(APP)["DATABASE_URL"], api.config_vars(BARE)["DATABASE_URL"]
        [addon] = [a for a in sb.sandbox.store.state.addons.values() if a.db and a.db.password in url]
        engine: Any = sb.sandbox.engine
        cluster = engine.cluster(addon)
        parts = urlsplit(url)
        dbname, user = parts.path.lstrip("/"), parts.username or ""
        cluster.sql("CREATE EXTENSION pg_stat_statements", database=dbname)  # as Heroku's credential can
        pgbench(cluster, url, ["-i", "-q", "-s", "1"])
        ensure_settings(Context(api=api), APP, {"log_min_duration_statement": 0})
        cluster.sql("SELECT pg_stat_statements_reset()", database=dbname)
        script = tmp_path_factory.mktemp("pgbench") / "multiline.sql"
        script.write_text(MULTILINE_SCRIPT)
        script.chmod(0o644)
        pgbench(cluster, url, ["-n", "-c", "2", "-t", "30", "-b", "tpcb-like@5", "-b", "select-only@2",
                               "-f", f"{script}@3"])
        client.close()
        yield Scene(sb, url, cluster, dbname, user, bare_url)


def secrets_of(url: str) -> list[str]:
    parts = urlsplit(url)
    return [url, parts.password or "unset"]


def server_calls(scene: Scene) -> dict[str, int]:
    """pg_stat_statements.calls of the app's user, by statement (our normalized text of its query)."""
    rows = admin_rows(scene, f"SELECT query, calls {pgss(scene)}")
    calls: dict[str, int] = {}
    for query, count in rows:
        calls[normalize(query)] = calls.get(normalize(query), 0) + int(count)
    return calls


def test_log_report_agrees_with_pg_stat_statements(scene: Scene) -> None:
    expected = server_calls(scene)
    total = sum(expected.values())
    assert total > 200  # the workload ran; and it fits one log session (1500 lines)
    deadline = time.monotonic() + 60
    while True:  # the server writes its log as it goes: wait until every statement is in it
        done = cli(scene.sb, "slow-queries", "-a", APP, "--format", "json", "--sort", "count", "--top", "100",
                   "--quiet")
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        ours = {q["query"]: q["count"] for q in report["queries"]}
        if sum(ours.get(statement, 0) for statement in expected) >= total or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert report["summary"]["lines"] < 1500, "the log session may have cut the workload short"
    top = sorted(expected, key=lambda s: (-expected[s], s))[:10]
    assert {s: ours.get(s) for s in top} == {s: expected[s] for s in top}
    assert sorted(ours.values(), reverse=True)[:10] == [expected[s] for s in top]
    assert any("\n" in q["example"] for q in report["queries"])  # multi-line statements among them


def test_outliers_cli_matches_the_server(scene: Scene) -> None:
    done = cli(scene.sb, "outliers", "-a", APP, "--format", "json", "-n", "5")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    rows = data["queries"]
    assert len(rows) == 5 and data["database"]["config_var"] == "DATABASE_URL"
    assert [r["total_exec_ms"] for r in rows] == sorted((r["total_exec_ms"] for r in rows), reverse=True)
    truth = {queryid: (int(calls), float(total)) for queryid, calls, total in admin_rows(
        scene, f"SELECT queryid::text, calls, total_exec_time {pgss(scene)}")}
    all_ms = sum(total for _calls, total in truth.values())
    for row in rows:
        calls, total = truth[row["queryid"]]
        assert row["calls"] >= calls  # the workload is over: only our own reads may have been added since
        assert row["total_exec_ms"] == pytest.approx(total, rel=0.2, abs=5)
        assert row["mean_ms"] == pytest.approx(row["total_exec_ms"] / row["calls"], rel=1e-3, abs=1e-3)
        assert 0 < row["share"] <= 1 and row["io_ms"] >= 0
    assert data["summary"]["statements"] >= len(truth) - 1
    assert data["summary"]["total_exec_ms"] == pytest.approx(all_ms, rel=0.2, abs=5)
    assert data["summary"]["extension_schema"] == "public"
    for secret in secrets_of(scene.url):
        assert secret not in done.stdout + done.stderr


def test_outliers_table_masks_utility_constants(scene: Scene) -> None:
    done = cli(scene.sb, "outliers", "-a", APP, "-n", "50", "--width", "200")
    assert done.returncode == 0, done.stderr
    assert "total exec time | prop exec time | ncalls" in done.stdout
    assert "pgbench_accounts" in done.stdout and "statements of this database's user" in done.stdout


def test_outliers_without_the_extension_says_how_to_install_it(scene: Scene) -> None:
    done = cli(scene.sb, "outliers", "-a", BARE)
    assert done.returncode == 1 and done.stdout == ""
    assert "pg_stat_statements is not installed" in done.stderr
    assert "CREATE EXTENSION pg_stat_statements" in done.stderr and BARE in done.stderr
    for secret in secrets_of(scene.bare_url):
        assert secret not in done.stderr


def test_outliers_bad_input(scene: Scene) -> None:
    unknown = cli(scene.sb, "outliers", "-a", APP, "HEROKU_POSTGRESQL_NOPE")
    assert unknown.returncode == 1 and "NOPE" in unknown.stderr and unknown.stdout == ""
    no_app = cli(scene.sb, "outliers", "-a", "no-such-app")
    assert no_app.returncode == 1 and "no-such-app" in no_app.stderr
    assert cli(scene.sb, "outliers", "-a", APP, "-n", "0").returncode == 2
    missing = cli(scene.sb, "outliers", "-a", APP, pre="import sys; sys.modules['psycopg'] = None; ")
    assert missing.returncode == 1 and "pip install 'herokupg[postgres]'" in missing.stderr
    for result in (unknown, no_app, missing):
        for secret in secrets_of(scene.url):
            assert secret not in result.stdout + result.stderr
