"""playbooks/slow_queries.yml writes the HTML page when asked (slow_query_html), and only then."""

from __future__ import annotations

from pathlib import Path

from harness import ROOT, Ansible
from herokupg_sandbox.threaded import seed_app, seed_database

RECORDED = [("SELECT * FROM users WHERE id = 42", 2405.9), ("SELECT * FROM users WHERE id = 7", 3100.0),
            ("UPDATE carts SET total = 10\nWHERE id IN (1, 2, 3)", 5000.25)]


def test_slow_queries_playbook_writes_the_page(ansible: Ansible, tmp_path: Path) -> None:
    seed_app(ansible.sandbox, "pageapp")
    db = seed_database(ansible.sandbox, "pageapp")
    with ansible.sandbox.http() as c:
        for sql, ms in RECORDED:
            r = c.post(f"/_sandbox/databases/{db['id']}/statements", json={"sql": sql, "duration_ms": ms})
            assert r.status_code == 201, r.text
    page = tmp_path / "slow.html"
    playbook = ROOT / "playbooks" / "slow_queries.yml"
    checked = ansible.playbook(playbook, "--check", extra_vars={"app": "pageapp", "slow_query_html": str(page)})
    checked.assert_ok()
    assert not page.exists()  # check mode writes nothing
    run = ansible.playbook(playbook, extra_vars={"app": "pageapp", "slow_query_html": str(page)})
    run.assert_ok()
    html = page.read_text()
    assert html.count("<svg") >= 4 and "<script" not in html
    assert "select * from users where id = ?" in html and "id = 42" not in html
    assert ansible.sandbox.token not in run.output + html
    without = ansible.playbook(playbook, extra_vars={"app": "pageapp"})
    without.assert_ok()
    assert "skipping" in without.output
