"""``herokupg-sandbox ...`` (also run as ``herokupg sandbox ...`` when herokupg is installed): serve
in the foreground, start/stop/status in the background, and print the environment that points the
Heroku CLI (and herokupg) at the sandbox.

Exit codes: 0 success (``status``: running), 1 failure, 2 usage error, 3 ``status``: stopped.
"""

from __future__ import annotations

import argparse
import contextlib
import shlex
import shutil
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from herokupg_sandbox import control

EXIT_STOPPED = 3
PROG = "herokupg-sandbox"


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description="A local emulator of the Heroku Platform API and Data API, on 127.0.0.1 only.",
    )
    parser.set_defaults(prog=prog)
    commands = parser.add_subparsers(dest="sandbox_command", required=True)

    def common(name: str, help_text: str, *, engine: bool = False) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--port", type=int, help="port on 127.0.0.1 ($HEROKUPG_SANDBOX_PORT, else 5599)")
        sub.add_argument(
            "--state-dir", type=Path,
            help="state, token, pid and log ($HEROKUPG_SANDBOX_DIR, else ~/.local/state/herokupg/sandbox)",
        )
        if engine:
            sub.add_argument(
                "--engine", metavar="{memory,postgres}",
                help="database engine (default: the one this state dir was created with, else postgres when "
                "PostgreSQL server binaries can run here, else memory)",
            )
            sub.add_argument("--token", help="API token to accept (default: the state dir's, else a new one)")
        return sub

    common("serve", "serve in the foreground until interrupted", engine=True).set_defaults(handler=_serve)
    common("start", "start in the background and wait until it answers", engine=True).set_defaults(
        handler=_start
    )
    common("stop", "stop the background sandbox").set_defaults(handler=_stop)
    common("status", "say whether the sandbox runs (exit 0) or not (exit 3)").set_defaults(handler=_status)
    common("env", "print shell exports pointing the Heroku CLI at the sandbox").set_defaults(handler=_env)
    return parser


def main(argv: Sequence[str] | None = None, prog: str = PROG) -> int:
    """Run one command; ``prog`` is the name it was called by (``herokupg sandbox`` forwards here)."""
    args = build_parser(prog).parse_args(argv)
    result: int = args.handler(args)
    return result


def _state_dir(args: argparse.Namespace) -> Path:
    # Absolute: the postgres engine runs its servers from other working directories.
    return (Path(args.state_dir).expanduser() if args.state_dir else control.default_state_dir()).resolve()


def _engine(args: argparse.Namespace, state_dir: Path) -> tuple[str, str]:
    """(engine, why): --engine, else the one this state dir ran with, else the best available."""
    from herokupg_sandbox.app import choose_engine

    if not args.engine and control.remembered(state_dir).engine:
        return str(control.remembered(state_dir).engine), "the engine this state dir was created with"
    return choose_engine(args.engine, state_dir)


def _serve(args: argparse.Namespace) -> int:
    from herokupg_sandbox.app import build
    from herokupg_sandbox.protocol import config

    state_dir = _state_dir(args)
    port = control.port_for_start(args.port, state_dir)
    engine, why = _engine(args, state_dir)
    url = control.base_url(port)
    try:
        _, app = build(state_dir, base_url=url, token=args.token, engine=engine)
    except ValueError as exc:
        print(f"{args.prog}: {exc}", file=sys.stderr)
        return 2
    control.remember(state_dir, port, engine)
    control.write_pid(state_dir)
    print(f"{args.prog}: {engine} engine ({why}), state in {state_dir}, serving {url}", flush=True)
    try:
        server = _server(config(app, control.HOST, port))
        server.run()
        return 0 if server.started else 1
    finally:
        control.clear_pid(state_dir)


def _make_server_class() -> type[Any]:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn re-raises SIGTERM/SIGINT after its graceful shutdown, which kills the process
        before our cleanup runs and exits -15; a requested stop is a success here (exit 0)."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            handled = (signal.SIGINT, signal.SIGTERM)
            originals = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
            try:
                yield
            finally:
                for sig, handler in originals.items():
                    signal.signal(sig, handler)

    return Server


def _server(config: Any) -> Any:
    return _make_server_class()(config)


def _start(args: argparse.Namespace) -> int:
    from herokupg_sandbox.server import load_or_create_token

    state_dir = _state_dir(args)
    port = control.port_for_start(args.port, state_dir)
    engine, why = _engine(args, state_dir)
    before = control.status(state_dir, port)
    if before.running:
        print(f"{args.prog} already running at {before.url} (pid {before.pid})")
        return 0
    load_or_create_token(state_dir, args.token)  # kept in the state dir (0600), never on a command line
    try:
        started = control.start(state_dir, port, engine)
    except control.StartError as exc:
        print(f"{args.prog} failed to start: {exc}", file=sys.stderr)
        return 1
    print(f"{args.prog} running at {started.url} ({engine} engine: {why}; pid {started.pid})")
    where = shlex.quote(str(state_dir))
    print(f'Point the Heroku CLI at it with: eval "$({command_name(args.prog)} env --state-dir {where})"')
    return 0


def command_name(prog: str) -> str:
    """How to run ``prog`` (``herokupg-sandbox``, or ``herokupg sandbox``) from a shell here: by its
    script's name when that is on PATH and is this one, else by its full path (e.g.
    .venv/bin/herokupg-sandbox, not on PATH until the venv is activated)."""
    name, *words = prog.split()
    tail = "".join(f" {word}" for word in words)
    script = Path(sys.executable).parent / name
    if not script.exists():
        module = "herokupg.cli" if name == "herokupg" else "herokupg_sandbox"
        return f"{shlex.quote(sys.executable)} -m {module}{tail}"
    found = shutil.which(name)
    if found and Path(found).resolve() == script.resolve():
        return f"{name}{tail}"
    return f"{shlex.quote(str(script))}{tail}"


def _stop(args: argparse.Namespace) -> int:
    state_dir = _state_dir(args)
    if control.stop(state_dir):
        print(f"{args.prog} stopped")
    else:
        print(f"{args.prog} was not running")
    return 0


def _status(args: argparse.Namespace) -> int:
    state_dir = _state_dir(args)
    current = control.status(state_dir, control.port_for_existing(args.port, state_dir))
    if current.running:
        engine = current.engine or control.DEFAULT_ENGINE
        print(f"running at {current.url} ({engine} engine, pid {current.pid})")
        return 0
    print(f"stopped (state dir {state_dir})")
    return EXIT_STOPPED


def _env(args: argparse.Namespace) -> int:
    from herokupg_sandbox.server import load_or_create_token

    state_dir = _state_dir(args)
    url = control.base_url(control.port_for_existing(args.port, state_dir))
    token = load_or_create_token(state_dir)
    for name, value in control.heroku_cli_exports(url, token).items():
        print(f"export {name}={shlex.quote(value)}")
    return 0
