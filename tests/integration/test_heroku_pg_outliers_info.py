"""heroku_pg_outliers_info ad hoc, on the sandbox's postgres engine (real clusters): the database's
password must appear nowhere in the output, even at -vvv. The scenario, checked against
pg_stat_statements read as the cluster's superuser, is the ansible-test target
targets/heroku_pg_outliers_info (make ansible-integration).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
from harness import Ansible
from herokupg.api import HerokuAPI
from herokupg.client import HerokuClient
from herokupg_sandbox.pgengine import available
from herokupg_sandbox.pgengine.cluster import ADMIN_USER
from herokupg_sandbox.threaded import postgres_sandbox, seed_app, seed_database

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not available()[0], reason=f"postgres engine unavailable: {available()[1]}"),
]

WORKLOAD = [
    "CREATE TABLE pgbench_accounts (aid int PRIMARY KEY, abalance int NOT NULL)",
    "INSERT INTO pgbench_accounts SELECT g, 0 FROM generate_series(1, 20000) g",
] + [f"UPDATE pgbench_accounts SET abalance = abalance + {k} WHERE aid % 7 = {k % 7}" for k in range(20)] + [
    f"SELECT count(*) FROM pgbench_accounts WHERE abalance > {k}" for k in range(40)
]


@pytest.fixture
def scene(tmp_path: Path) -> Iterator[tuple[Ansible, str]]:
    with postgres_sandbox(prefix="herokupg-outliers-mod-") as sb:
        seed_app(sb, "outapp")
        seed_database(sb, "outapp")
        with HerokuClient(sb.token, api_url=sb.url) as client:
            url = HerokuAPI(client).config_vars("outapp")["DATABASE_URL"]
        [addon] = [a for a in sb.sandbox.store.state.addons.values() if a.db and a.db.password in url]
        cluster: Any = sb.sandbox.engine.cluster(addon)  # type: ignore[attr-defined]
        dbname = urlsplit(url).path.lstrip("/")
        admin = {"host": "127.0.0.1", "port": cluster.port, "user": ADMIN_USER, "dbname": dbname,
                 "password": cluster.admin_password, "autocommit": True}
        with psycopg.connect(**admin) as connection:  # as Heroku's own credential may
            connection.execute("CREATE EXTENSION pg_stat_statements")
        with psycopg.connect(url, autocommit=True) as connection:  # the app's workload, as the app's user
            for sql in WORKLOAD:
                connection.execute(sql)  # type: ignore[arg-type]
        workdir = tmp_path / "ansible"
        (workdir / "tmp").mkdir(parents=True)
        yield Ansible(sb, workdir), url


def test_outliers_info_ad_hoc(scene: tuple[Ansible, str]) -> None:
    ansible, url = scene
    run = ansible.module("heroku_pg_outliers_info", "app=outapp top=1", "-vvv")
    run.assert_ok()
    assert '"changed": false' in run.output and '"total_exec_ms"' in run.output
    for secret in (url, urlsplit(url).password or "unset", ansible.sandbox.token):
        assert secret not in run.output
