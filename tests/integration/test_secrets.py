"""No secret is ever printed: the API key, database passwords, backup URL signatures and log
session tokens are looked for in every output a user sees - ``ansible-playbook -vvv`` of a play
using every module (module returns included), the ``herokupg`` CLI (``sandbox env``/``status``
excluded: ``env`` prints the key because the user asked for it) and the sandbox's own output.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from harness import Ansible
from herokupg_sandbox.threaded import free_port, seed_app, seed_database
from secrets_scan import MASK, Secrets, collect, collect_from

TARGET = "secrets/main.yml"
WRONG_KEY = "hrku-wrong-0d9c8b7a-6f5e-4d3c-2b1a-0f9e8d7c6b5a"
BIN = Path(sys.executable).parent


def test_the_scanner_finds_planted_leaks() -> None:
    secrets = Secrets()
    secrets.add("s3cr3t-password-value", "password of db")
    assert secrets.leaks("all fine, password " + MASK) == []
    assert secrets.leaks("postgres://u:" + MASK + "@host/db ?signature=" + MASK) == []
    assert len(secrets.leaks("oops: s3cr3t-password-value")) == 1
    assert len(secrets.leaks("postgres://u:other@host/db")) == 1
    assert len(secrets.leaks("https://x/b001.dump?expires=1&signature=abcdef0123")) == 1
    assert len(secrets.leaks("http://x/_sandbox/public/logs/1?token=abcdefgh")) == 1
    assert len(secrets.leaks("Authorization: Bearer hrku-abcdefgh12345")) == 1


def test_every_module_at_vvv_prints_no_secret(ansible: Ansible, tmp_path: Path) -> None:
    sandbox = ansible.sandbox
    seed_app(sandbox, "secretive")
    seed_database(sandbox, "secretive")
    started = float(sandbox.admin("GET", "state")["now"])
    run = ansible.playbook(
        TARGET,
        "-vvv",
        extra_vars={"app": "secretive", "download_dir": str(tmp_path), "wrong_key": WRONG_KEY},
    )
    run.assert_ok()
    assert "TASK [Promote the follower]" in run.output and '"changed": true' in run.output
    secrets = collect(sandbox, started, {WRONG_KEY: "the wrong API key given"})
    assert len([label for label in secrets.values.values() if label.startswith("password")]) >= 3
    assert any(label == "backup URL signature" for label in secrets.values.values())
    secrets.assert_clean(run.output, "ansible-playbook -vvv output")


def test_herokupg_cli_prints_no_secret(ansible: Ansible, tmp_path: Path) -> None:
    sandbox = ansible.sandbox
    seed_app(sandbox, "clisecrets")
    seed_database(sandbox, "clisecrets")
    started = float(sandbox.admin("GET", "state")["now"])
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEROKU")}
    env.update(HEROKU_API_URL=sandbox.url, HEROKU_API_KEY=sandbox.token, HOME=str(tmp_path))
    outputs = []
    for args, key in (
        (["-a", "clisecrets", "--lines", "50"], sandbox.token),
        (["-a", "clisecrets", "--lines", "50", "--format", "json", "--show-values"], sandbox.token),
        (["-a", "clisecrets", "--database", "NOPE"], sandbox.token),
        (["-a", "no-such-app"], sandbox.token),
        (["-a", "clisecrets"], WRONG_KEY),
    ):
        proc = subprocess.run(
            [str(BIN / "herokupg"), "slow-queries", *args],
            env={**env, "HEROKU_API_KEY": key},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        outputs.append(f"$ herokupg slow-queries {' '.join(args)} -> {proc.returncode}\n{proc.stdout}{proc.stderr}")
    assert outputs[0].split("\n", 1)[0].endswith("-> 0"), outputs[0][-2000:]
    assert not outputs[3].split("\n", 1)[0].endswith("-> 0")
    collect(sandbox, started, {WRONG_KEY: "the wrong API key given"}).assert_clean("\n".join(outputs), "herokupg CLI")


def test_sandbox_output_has_no_secret(tmp_path: Path) -> None:
    """``herokupg sandbox serve`` in a subprocess, driven through every route that carries a
    secret, including the failing ones; its stdout/stderr and any file it logs to are scanned."""
    state_dir = tmp_path / "served"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [str(BIN / "herokupg"), "sandbox", "serve", "--port", str(port), "--state-dir", str(state_dir), "--engine", "memory"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    try:
        token = _wait_for_token(state_dir, url)
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/vnd.heroku+json; version=3"}
        with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
            started = float(http.get("/_sandbox/state").json()["now"])
            _drive(http, url, token)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            output, _stderr = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _stderr = proc.communicate()
    assert "serving" in output
    logged = "\n".join(p.read_text(errors="replace") for p in state_dir.rglob("*.log"))
    state = json.loads((state_dir / "state.json").read_text())
    secrets = collect_from(state, token, state_dir, started)
    assert any(label.startswith("password") for label in secrets.values.values())
    assert any(label == "log session token" for label in secrets.values.values())
    secrets.assert_clean(output + logged, "the sandbox's output and log files")


def _wait_for_token(state_dir: Path, url: str) -> str:
    for _attempt in range(300):
        try:
            if httpx.get(f"{url}/_sandbox/public/health", timeout=1).status_code == 200:
                return (state_dir / "token").read_text().strip()
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError("the sandbox did not start")


def _drive(http: httpx.Client, url: str, token: str) -> None:
    http.post("/apps", json={"name": "served"}).raise_for_status()
    addon = http.post("/apps/served/addons", json={"plan": {"name": "heroku-postgresql:standard-0"}}).json()
    for _attempt in range(100):
        if http.get(f"/client/v11/databases/{addon['id']}").status_code == 200:
            break
        time.sleep(0.05)
    http.get("/apps/served/config-vars").raise_for_status()
    http.post(f"/client/v11/databases/{addon['id']}/backups").raise_for_status()
    for _attempt in range(100):
        transfers = http.get("/client/v11/apps/served/transfers").json()
        if transfers and transfers[0].get("finished_at"):
            break
        time.sleep(0.05)
    signed = http.post("/client/v11/apps/served/transfers/1/actions/public-url").json()["url"]
    httpx.get(signed, timeout=30)
    httpx.get(signed.replace("signature=", "signature=0"), timeout=30)  # a bad signature
    session = http.post("/apps/served/log-sessions", json={"lines": 10}).json()
    httpx.get(session["logplex_url"] + "x", timeout=5)  # a bad log token
    httpx.get(f"{url}/apps/served", headers={"Authorization": "Bearer " + token[::-1]}, timeout=5)
    httpx.get(f"{url}/apps/served", auth=("", token + "x"), timeout=5)
    http.post("/apps/served/addons", content=b'{"plan": ' + token.encode(), headers={"Content-Type": "application/json"})
