"""`auditor render --run DIR`: rebuild a run's audit.xlsx from the JSON/CSV files it holds.

No AWS and no config needed: useful after a tool upgrade changed the workbook, or when the workbook
was lost. External ids are as masked as the saved files have them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from auditor.exit_codes import ExitCode
from auditor.report.load import RunLoadError
from auditor.report.run_folder import RunFolder
from auditor.report.workbook import write_workbook
from auditor.terminal import shown


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("render", help="rewrite a run folder's audit.xlsx from its saved JSON (no AWS calls)")
    p.add_argument(
        "--run", required=True, type=Path, metavar="DIR", help="the run folder (or the `latest` link)"
    )
    p.set_defaults(handler=handle)


def render_run(run_dir: Path) -> Path:
    """Rewrite run_dir/audit.xlsx (atomically) from the run's saved files; returns its path."""
    folder = RunFolder(run_dir)
    return write_workbook(folder.workbook, folder.load_result())


def handle(args: argparse.Namespace) -> ExitCode:
    try:
        path = render_run(args.run)
    except RunLoadError as exc:
        print(shown(f"auditor render: {exc}"), file=sys.stderr)
        return ExitCode.USAGE
    except OSError as exc:
        print(shown(f"auditor render: cannot write the workbook in {args.run}: {exc}"), file=sys.stderr)
        return ExitCode.USAGE
    print(shown(f"workbook: {path}"), file=sys.stderr)
    return ExitCode.OK
