"""Find secrets in text: the API key, database passwords, signed-URL signatures, log-session
tokens, the sandbox's own signing secret, plus anything that merely looks like an unmasked one.

``collect`` reads the known values from the sandbox itself (its state dump is the oracle: every
add-on's ``db.password``, every log session's token) and recomputes every backup signature the
sandbox may have issued during a run (HMAC of ``uuid:expires`` with its secret, for each second
of the run), so a leaked signature is recognised even where no ``signature=`` key surrounds it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from herokupg_sandbox.threaded import RunningSandbox

MASK = "********"
SECRET_FILE = "public_url_secret"

# Shapes of secrets, masked or not: a hit whose value is not the mask is a leak.
SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("database URL credentials", re.compile(r"postgres(?:ql)?://[^:/@\s\"']+:(?P<value>[^@\s\"']+)@")),
    ("URL credentials", re.compile(r"\bhttps?://[^:/@\s\"']+:(?P<value>[^@/\s\"']+)@")),
    ("signed URL parameter", re.compile(
        r"[?&](?:signature|sig|X-Amz-Signature|X-Amz-Security-Token|X-Amz-Credential)=(?P<value>[^&\s\"'\\]+)",
        re.IGNORECASE,
    )),
    ("log session token", re.compile(r"/logs/[^?\s\"']+\?token=(?P<value>[^&\s\"'\\]+)")),
    ("bearer token", re.compile(r"Bearer\s+(?P<value>[A-Za-z0-9._~+/=-]{8,})")),
)


@dataclass
class Secrets:
    values: dict[str, str] = field(default_factory=dict)  # secret -> what it is

    def add(self, value: str | None, label: str) -> None:
        if value and len(value) >= 6 and value != MASK:
            self.values.setdefault(value, label)

    def leaks(self, text: str) -> list[str]:
        """What leaked into ``text`` (labels, with a short context), empty when nothing did."""
        found = [
            f"{label}: ...{_context(text, text.index(value))}..."
            for value, label in self.values.items()
            if value in text
        ]
        for label, pattern in SHAPES:
            for match in pattern.finditer(text):
                value = match.group("value")
                if value.strip("*") and MASK not in value and not value.startswith(("{{", "<")):
                    found.append(f"unmasked {label}: ...{_context(text, match.start())}...")
        return found

    def assert_clean(self, text: str, where: str) -> None:
        leaks = self.leaks(text)
        assert not leaks, f"secrets in {where}:\n" + "\n".join(leaks[:10])


def _context(text: str, at: int) -> str:
    # The context is masked so that the failure message does not print the secret either.
    snippet = text[max(0, at - 60) : at + 20]
    return re.sub(r"[0-9a-f]{12,}|[A-Za-z0-9_-]{20,}", "<hidden>", snippet)


def signatures(secret: bytes, transfer_uuids: list[str], start: float, end: float, ttl: int) -> list[str]:
    """Every signature the sandbox may have issued for these transfers between start and end."""
    return [
        hmac.new(secret, f"{uuid}:{expires}".encode(), hashlib.sha256).hexdigest()
        for uuid in transfer_uuids
        for expires in range(int(start) + ttl - 1, int(end) + ttl + 2)
    ]


def collect(sandbox: RunningSandbox, started: float, extra: dict[str, str] | None = None) -> Secrets:
    """The secrets a run against ``sandbox`` since sandbox time ``started`` may have seen."""
    state: dict[str, Any] = sandbox.admin("GET", "state")
    return collect_from(state, sandbox.token, sandbox.state_dir, started, extra)


def collect_from(
    state: dict[str, Any], token: str, state_dir: Path, started: float, extra: dict[str, str] | None = None
) -> Secrets:
    """``collect`` from a state dump (``/_sandbox/state`` or the state dir's state.json)."""
    secrets = Secrets()
    secrets.add(token, "API key")
    for addon in state["addons"].values():
        if addon.get("db"):
            secrets.add(addon["db"]["password"], f"password of {addon['name']}")
    for session in state.get("log_sessions", {}).values():
        secrets.add(session["token"], "log session token")
    secret_file = state_dir / SECRET_FILE
    if secret_file.exists():
        key = secret_file.read_text().strip().encode()
        secrets.add(key.decode(), "public URL signing secret")
        ttl = int(state["settings"]["public_url_ttl"])
        uuids = [t["uuid"] for t in state["transfers"].values()]
        now = float(state.get("now") or time.time() + float(state.get("clock_offset", 0.0)))
        for signature in signatures(key, uuids, started, now, ttl):
            secrets.add(signature, "backup URL signature")
    for value, label in (extra or {}).items():
        secrets.add(value, label)
    return secrets
