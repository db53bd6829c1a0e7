"""The `herokupg` console script."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

SANDBOX_MISSING = (
    "herokupg sandbox: the sandbox is not installed. It is its own distribution, herokupg-sandbox: "
    "install its wheel, e.g. pip install dist/herokupg_sandbox-<version>-py3-none-any.whl (make package "
    "builds it), or from a clone pip install -e pycore/sandbox (make venv does). It is also the "
    "herokupg-sandbox command."
)


def build_parser() -> argparse.ArgumentParser:
    from herokupg import __version__

    parser = argparse.ArgumentParser(prog="herokupg", description="Heroku Postgres operations as code.")
    parser.add_argument("--version", action="version", version=f"herokupg {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    # Listed here, run by herokupg-sandbox (main() forwards before parsing): nothing of it loads otherwise.
    sub.add_parser(
        "sandbox", add_help=False,
        help="run the local Heroku API sandbox (serve|start|stop|status|env; needs herokupg-sandbox)",
    )
    from herokupg.slowlog.cli import add_slow_queries_parser  # argparse only; the rest loads on use

    add_slow_queries_parser(sub)
    from herokupg.outliers_cli import add_outliers_parser

    add_outliers_parser(sub)
    return parser


def sandbox(argv: Sequence[str]) -> int:
    """``herokupg sandbox ...``: the herokupg-sandbox command, when that distribution is installed."""
    try:
        from herokupg_sandbox.cli import main as sandbox_main
    except ModuleNotFoundError as exc:
        if exc.name != "herokupg_sandbox":
            raise
        print(SANDBOX_MISSING, file=sys.stderr)
        return 1
    return sandbox_main(argv, prog="herokupg sandbox")


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["sandbox"]:
        return sandbox(arguments[1:])
    args = build_parser().parse_args(arguments)
    result: int = args.handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
