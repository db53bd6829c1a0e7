"""A URL given to a module keeps its secrets: heroku_pg_restore from a URL with a password and a
pre-signed query (``X-Amz-Signature`` style), at ``-vvv`` with Ansible's log file on, prints neither
the password nor any signature part (``invocation.module_args`` included), and the sandbox stores
the URL without its userinfo or query.

The URL is the sandbox's own signed backup URL with userinfo and S3-style parameters added, so the
restore really downloads it (httpx sends the userinfo as Basic auth; the sandbox ignores it).
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlsplit

from harness import Ansible, sandbox_state
from herokupg_sandbox.threaded import seed_app, seed_database
from secrets_scan import collect

APP = "urlsecrets"
PASSWORD = "Pa55-w0rd-q8x7"
AMZ_SIGNATURE = "5f0c2d9e8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d"
AMZ_TOKEN = "FQoGZXIvYXdzEXAMPLETOKEN0123456789"
AMZ_CREDENTIAL = "AKIAEXAMPLE0123/20260101/us-east-1/s3/aws4_request"
PLAYBOOK = """\
---
- name: Restore from a URL twice (the second run is once and unchanged)
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/herokuops.postgres.heroku:
      app: "{{ app }}"
  tasks:
    - name: Restore from the URL
      herokuops.postgres.heroku_pg_restore:
        backup: "{{ backup_url }}"
        confirm: "{{ app }}"
        once: true
        poll_interval: 0.1
      register: first
    - name: Again, once
      herokuops.postgres.heroku_pg_restore:
        backup: "{{ backup_url }}"
        confirm: "{{ app }}"
        once: true
        poll_interval: 0.1
      register: again
    - name: Restored once, named without credentials
      ansible.builtin.assert:
        that:
          - first is changed and first.restore.succeeded
          - again is not changed
          - first.source is not search('@')
        quiet: true
"""


def test_url_options_keep_their_secrets(ansible: Ansible, tmp_path: Path) -> None:
    sandbox = ansible.sandbox
    seed_app(sandbox, APP)
    addon = seed_database(sandbox, APP)
    started = float(sandbox.admin("GET", "state")["now"])
    with sandbox.http() as http:
        http.post(f"/client/v11/databases/{addon['id']}/backups").raise_for_status()
        deadline = time.monotonic() + 120  # the suite's sandboxes take Heroku-like transfer times
        while not http.get(f"/client/v11/apps/{APP}/transfers/1").json()["finished_at"]:
            assert time.monotonic() < deadline, "the backup did not finish"
            time.sleep(0.1)
        signed = http.post(f"/client/v11/apps/{APP}/transfers/1/actions/public-url").json()["url"]
    parts = urlsplit(signed)
    extra = f"X-Amz-Credential={AMZ_CREDENTIAL.replace('/', '%2F')}&X-Amz-Signature={AMZ_SIGNATURE}" \
            f"&X-Amz-Security-Token={AMZ_TOKEN}"
    url = parts._replace(netloc=f"backup-user:{PASSWORD}@{parts.netloc}", query=f"{parts.query}&{extra}").geturl()
    expires = dict(p.split("=", 1) for p in parts.query.split("&"))

    playbook = tmp_path / "restore.yml"
    playbook.write_text(PLAYBOOK)
    log = tmp_path / "ansible.log"
    (ansible.workdir / "ansible.cfg").write_text(f"[defaults]\nlog_path = {log}\n")  # ansible runs in workdir
    run = ansible.playbook(playbook, "-vvv", extra_vars={"app": APP, "backup_url": url})
    assert "invocation" in run.output and log.exists()
    logged = log.read_text()
    for secret in (PASSWORD, AMZ_SIGNATURE, AMZ_TOKEN, AMZ_CREDENTIAL, expires["signature"]):
        assert secret not in run.output, f"{secret[:6]}... printed at -vvv"
        assert secret not in logged, f"{secret[:6]}... in the Ansible log file"
    secrets = collect(sandbox, started, {PASSWORD: "URL password", AMZ_TOKEN: "URL token"})
    secrets.assert_clean(run.output, "ansible-playbook -vvv output")
    secrets.assert_clean(logged, "the Ansible log file")
    run.assert_ok()

    [restore] = [t for t in sandbox_state(sandbox)["transfers"].values() if t["to_type"] == "pg_restore"]
    stored = urlsplit(restore["from_url"])
    assert stored.username is None and stored.password is None and stored.query == "", restore["from_url"]
    assert PASSWORD not in str(sandbox_state(sandbox))
