"""Entry point: parse arguments, dispatch to a command module, return its exit code.

Each command lives in auditor/commands/ and exposes `register(subparsers)`; the handler it
sets returns the process exit code, an `auditor.exit_codes.ExitCode` (README "Exit codes").
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from auditor import __version__
from auditor.commands import datadog_send, datadog_sync, demo, explain, render, run
from auditor.exit_codes import ExitCode

COMMANDS = (run, demo, explain, render, datadog_sync, datadog_send)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="auditor",
        description="Audit the Datadog AWS integration across an AWS Organization.",
    )
    parser.add_argument("--version", action="version", version=f"auditor {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        print("auditor: interrupted", file=sys.stderr)
        return ExitCode.INCOMPLETE
    except Exception:  # a bug must not exit 1 (Python's default), which means "failing findings"
        logging.getLogger("auditor").critical("internal error: the run did not complete", exc_info=True)
        return ExitCode.INCOMPLETE


if __name__ == "__main__":
    sys.exit(main())
