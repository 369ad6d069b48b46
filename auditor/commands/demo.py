"""`auditor demo`: build the embedded organization in moto and run the real pipeline on it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from auditor.commands.run import add_run_options, execute
from auditor.config import Config, config_from_dict
from auditor.exit_codes import ExitCode
from auditor.report.cells import csv_frame, write_csv

DEFAULT_ACCOUNTS = 30
DEMO_SEED = 20261129


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("demo", help="audit an embedded demo organization (no AWS account needed)")
    add_run_options(p)
    p.add_argument("--accounts", type=int, default=DEFAULT_ACCOUNTS,
                   help=f"accounts in the demo organization (default {DEFAULT_ACCOUNTS}, minimum 20)")
    p.set_defaults(handler=handle)


def demo_config(output_dir: Path, expected_csv: Path, workers: int | None) -> Config:
    from auditor.demo.organization import AUDIT_ROLE, DEMO_REGIONS, DEMO_SITE

    data = {
        "organization": {"audit_role_name": AUDIT_ROLE},
        "datadog": {"site": DEMO_SITE, "expected_values": "csv", "expected_values_csv": str(expected_csv)},
        "regions": {"audited": list(DEMO_REGIONS)},
        "output": {"directory": str(output_dir)},
        "run": {"workers": workers or 8},
    }
    return config_from_dict(data, source="<demo>")


def handle(args: argparse.Namespace) -> ExitCode:
    try:
        from moto import mock_aws

        from auditor.demo.moto_regions import opted_in_regions
        from auditor.demo.moto_trust import enforce_role_trust
        from auditor.demo.organization import build_demo_org
    except ImportError as exc:
        print(f"auditor: the demo needs the 'demo' extra (pip install -e '.[demo]'): {exc}", file=sys.stderr)
        return ExitCode.USAGE
    import boto3

    if args.accounts < 20 or args.accounts > 2000:
        print("auditor: --accounts must be between 20 and 2000", file=sys.stderr)
        return ExitCode.USAGE
    output_dir: Path = args.output_dir or Path("reports")
    output_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    with mock_aws(), enforce_role_trust(), opted_in_regions() as opted:
        # The same organization every time (account, OU and policy ids from a seeded moto), so a
        # second demo run compares with the first as a nightly run does: findings stay "open".
        from moto.moto_api._internal import mock_random

        mock_random.seed(DEMO_SEED)
        session = boto3.Session(
            aws_access_key_id="demo", aws_secret_access_key="demo", region_name="us-east-1"
        )
        org = build_demo_org(session, args.accounts, opted_in=opted)
        expected_csv = output_dir / "demo-datadog-accounts.csv"
        write_csv(expected_csv, csv_frame(("account_id", "role_name", "external_id"), org.expected_csv_rows))
        cfg = demo_config(output_dir, expected_csv, args.workers)
        print(f"demo organization: {len(org.accounts)} member accounts, management {org.management_account_id}",
              file=sys.stderr)
        code, _run_dir = execute(cfg, output_dir, session=session, quiet=args.quiet, env={})
    return code
