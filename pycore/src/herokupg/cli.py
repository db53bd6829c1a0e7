"""The `herokupg` console script."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    from herokupg import __version__

    parser = argparse.ArgumentParser(prog="herokupg", description="Heroku Postgres operations as code.")
    parser.add_argument("--version", action="version", version=f"herokupg {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    from herokupg.sandbox.cli import add_sandbox_parser

    add_sandbox_parser(sub)
    from herokupg.slowlog.cli import add_slow_queries_parser  # argparse only; the rest loads on use

    add_slow_queries_parser(sub)
    from herokupg.outliers_cli import add_outliers_parser

    add_outliers_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = args.handler
    result: int = handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
