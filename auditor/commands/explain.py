"""`auditor explain --run DIR --account ID --region R [--action A]`: why a region verdict.

Works offline from the run's inventory.json. The Datadog site, role name and probe actions
come from (in order) the flags, `--config FILE`, the run's inventory.json (`analysis`
settings, when the run recorded them), then the defaults.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from auditor.config import DEFAULT_PROBE_ACTIONS, REGION, ConfigError, load_config
from auditor.exit_codes import ExitCode
from auditor.facts.sites import DEFAULT_ROLE_NAME, SITES
from auditor.policy.explain import ExplainError, explain_region
from auditor.terminal import shown


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("explain", help="explain a region verdict of a run, policy by policy (offline)")
    p.add_argument("--run", required=True, type=Path, help="run folder (holding inventory.json)")
    p.add_argument("--account", required=True, help="12-digit AWS account id")
    p.add_argument("--region", required=True, help="region, e.g. eu-west-1")
    p.add_argument("--action", action="append", default=[],
                   help="probe action to explain (repeatable; default: the run's probe actions)")
    p.add_argument("--config", type=Path, help="config file for [datadog] site/role_name, [regions] probe_actions")
    p.add_argument("--site", choices=SITES, help="Datadog site (default: from config/run, else datadoghq.com)")
    p.add_argument("--role-name", help=f"Datadog role name (default: from config/run, else {DEFAULT_ROLE_NAME})")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> ExitCode:
    try:
        text = explain_from_run(args)
    except (ExplainError, ConfigError, _InputError) as exc:
        print(shown(f"auditor explain: {exc}"), file=sys.stderr)
        return ExitCode.USAGE
    sys.stdout.write(text)
    return ExitCode.OK


class _InputError(ValueError):
    pass


def explain_from_run(args: argparse.Namespace) -> str:
    from auditor.report.inventory_json import load_inventory
    from auditor.report.run_folder import RunFolder

    if not REGION.match(args.region):
        raise _InputError(f"--region {args.region!r} is not a region name like 'eu-west-1'")
    path = RunFolder(args.run).inventory_json if args.run.is_dir() else args.run
    if not path.is_file():
        raise _InputError(f"{path}: no such file (is --run a run folder?)")
    try:
        inventory, snapshots, meta = load_inventory(path)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise _InputError(f"{path}: cannot read the inventory: {exc}") from None
    site, role_name, actions = _settings(args, meta)
    access_keys = any(e.account_id == args.account and e.uses_access_keys for e in meta.get("expected", ()))
    return explain_region(inventory, snapshots, account_id=args.account, region=args.region,
                          actions=actions, site=site, role_name=role_name, access_keys=access_keys)


def _settings(args: argparse.Namespace, meta: dict[str, Any]) -> tuple[str, str, tuple[str, ...]]:
    analysis = meta.get("analysis")
    recorded: dict[str, Any] = analysis if isinstance(analysis, dict) else {}
    site = recorded.get("site") or "datadoghq.com"
    role_name = recorded.get("role_name") or DEFAULT_ROLE_NAME
    actions = tuple(recorded.get("probe_actions") or DEFAULT_PROBE_ACTIONS)
    if args.config:
        cfg = load_config(args.config)
        site, role_name, actions = cfg.datadog.site, cfg.datadog.role_name, cfg.regions.probe_actions
    site = args.site or site
    role_name = args.role_name or role_name
    actions = tuple(args.action) or actions
    return site, role_name, actions
