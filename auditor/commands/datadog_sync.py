"""`auditor datadog sync-regions`: push a run's region exclusions back into Datadog.

Dry run by default: shows, per account, Datadog's current region setting and the proposed one.
With --apply it PATCHes the changed accounts one at a time and reads each back (GET by config id):
a region Datadog did not keep fails the command. Only accounts whose Datadog setting
includes a region the organization denies are touched, regions are never added unless
--allow-widen, and a run older than [datadog] sync_max_run_age_hours is refused for --apply.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO, TypeVar

from auditor import clock
from auditor.checks.datadog_side import denied_in_datadog, proposed_include_only, regions_setting
from auditor.checks.include_only import NO_REGION_LEFT, include_only_to_propose
from auditor.checks.include_only import REASON as NO_REGION_REASON
from auditor.config import ConfigError, DatadogConfig, load_config
from auditor.datadog.api import DatadogApi, DatadogApiError, by_account
from auditor.exit_codes import ExitCode
from auditor.model import ExpectedValues
from auditor.report.files import write_json
from auditor.report.load import RunExclusion, RunFileMissing, RunLoadError, read_exclusions
from auditor.report.run_folder import RunFolder
from auditor.terminal import shown

log = logging.getLogger("auditor.datadog")
T = TypeVar("T")

# updated: sent and read back as sent; not_kept: Datadog stored something else; unverified: the
# PATCH was accepted but the read-back failed. The last three and failed make the command exit 1.
ACTIONS = ("updated", "not_kept", "unverified", "failed", "would_update", "no_region_left", "not_in_datadog",
           "unchanged")
FAILING = frozenset({"failed", "not_kept", "unverified"})


class SyncInputError(ValueError):
    """The run folder or the arguments cannot be used; the message says which file or flag."""


@dataclass
class AccountPlan:
    account_id: str
    account_name: str
    action: str  # one of ACTIONS
    datadog_config_id: str = ""
    current: dict[str, Any] | None = None
    proposed: dict[str, Any] | None = None
    removed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    withheld: list[str] = field(default_factory=list)  # regions --allow-widen would add
    error: str = ""
    note: str = ""  # why nothing is proposed (no region left)
    # After --apply: what Datadog stored (read back by id), and how it differs from what was sent.
    stored: dict[str, Any] | None = None
    not_kept: list[str] = field(default_factory=list)  # sent, but not in what Datadog stored
    added_by_datadog: list[str] = field(default_factory=list)  # stored, but not sent


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `datadog sync-regions` to the CLI; the chosen command is in `args.handler(args) -> int`."""
    sub = datadog_commands(subparsers)
    sync = sub.add_parser(
        "sync-regions",
        help="set Datadog's region lists from a run's exclusions (dry run unless --apply)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sync.add_argument("--run", required=True, metavar="DIR",
                      help="run folder holding exclusions.json and run.json")
    sync.add_argument("--config", required=True, metavar="FILE", help="auditor config (TOML)")
    sync.add_argument("--account", action="append", default=[], metavar="ID",
                      help="only this account (repeatable)")
    sync.add_argument("--apply", action="store_true", help="send the changes to Datadog")
    sync.add_argument("--allow-widen", action="store_true",
                      help="also add allowed regions that Datadog does not currently include")
    sync.set_defaults(handler=run_sync_regions)


def datadog_commands(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    """The `datadog` command group's own subcommands, made on first use: other command modules
    (datadog_send) add theirs to the same group."""
    datadog = subparsers.choices.get("datadog")
    if datadog is None:
        datadog = subparsers.add_parser("datadog", help="work with Datadog's AWS integration")
        datadog.set_defaults(handler=lambda _args: _usage(datadog))
        datadog.add_subparsers(dest="datadog_command", metavar="COMMAND")
    return next(a for a in datadog._actions if isinstance(a, argparse._SubParsersAction))


def _usage(parser: argparse.ArgumentParser) -> ExitCode:
    parser.print_help(sys.stderr)
    return ExitCode.USAGE


def run_sync_regions(
    args: argparse.Namespace,
    *,
    env: Mapping[str, str] | None = None,
    now: datetime | None = None,
    out: TextIO | None = None,
    api_kwargs: Mapping[str, Any] | None = None,
) -> ExitCode:
    """The command. `env`, `now`, `out` and `api_kwargs` exist for tests."""
    env = os.environ if env is None else env
    now = now or clock.now()
    out = out or sys.stdout
    try:
        cfg = load_config(args.config).datadog
        run_dir = Path(args.run)
        finished = _run_finished_at(run_dir)
        wanted = _run_exclusions(run_dir)
        accounts = _select_accounts(wanted, args.account)
        age = now - finished
        limit = timedelta(hours=cfg.sync_max_run_age_hours)
        if args.apply:
            check_run_age(run_dir, cfg, now, advice="run the audit again before applying")
    except (ConfigError, SyncInputError) as exc:
        print(shown(f"error: {exc}"), file=sys.stderr)
        log.error("sync-regions refused: %s", exc)
        return ExitCode.USAGE
    if age > limit:
        print(shown(f"warning: run finished {_hours(age)} ago; --apply would be refused"), file=out)
    return _sync(cfg, run_dir, accounts, args, env, now, out, dict(api_kwargs or {}))


def _sync(
    cfg: DatadogConfig,
    run_dir: Path,
    accounts: list[RunExclusion],
    args: argparse.Namespace,
    env: Mapping[str, str],
    now: datetime,
    out: TextIO,
    api_kwargs: dict[str, Any],
) -> ExitCode:
    mode = "apply" if args.apply else "dry-run"
    log.info("sync-regions %s from %s: %d accounts", mode, run_dir, len(accounts))
    try:
        api = DatadogApi.from_config(cfg, env, **api_kwargs)
    except DatadogApiError as exc:
        print(shown(f"error: {exc}"), file=sys.stderr)
        return ExitCode.USAGE
    with api:
        try:
            listed = api.list_accounts()
        except DatadogApiError as exc:
            print(shown(f"error: {exc}"), file=sys.stderr)
            log.error("sync-regions: %s", exc)
            return ExitCode.FAILED
        current = by_account(listed)  # the run's rule: the first config, the others named
        plans = [_plan(item, current.get(item.account_id), args.allow_widen) for item in accounts]
        for plan in plans:
            ev = current.get(plan.account_id)
            if ev is not None and ev.other_config_ids:  # which one Datadog uses is not ours to guess
                configs = (ev.datadog_config_id, *ev.other_config_ids)
                plan.action, plan.proposed = "failed", None
                plan.error = (f"Datadog holds account {plan.account_id} in {len(configs)} configs "
                              f"({', '.join(configs)}): not changed; remove the duplicate in Datadog")
        for plan in plans:
            if plan.action == "would_update" and args.apply:
                _apply(api, plan)
            _show(plan, out)
    record = {
        "command": "datadog sync-regions",
        "mode": mode,
        "allow_widen": bool(args.allow_widen),
        "run": str(run_dir),
        "at": clock.iso(now),
        "datadog_url": api.url,
        "accounts": [plan.__dict__ for plan in plans],
    }
    try:
        path = _write_record(run_dir, now, record)
    except OSError as exc:
        print(shown(f"error: {run_dir}: cannot write the sync record: {exc.strerror}"), file=sys.stderr)
        return ExitCode.FAILED
    failed = [p.account_id for p in plans if p.action in FAILING]
    counts = {a: sum(p.action == a for p in plans) for a in ACTIONS}
    summary = ", ".join(f"{n} {a.replace('_', ' ')}" for a, n in counts.items() if n) or "no accounts"
    print(shown(f"{mode}: {summary}; record: {path}"), file=out)
    log.info("sync-regions %s done: %s; record %s", mode, summary, path)
    return ExitCode.FAILED if failed else ExitCode.OK


def _plan(item: RunExclusion, ev: ExpectedValues | None, allow_widen: bool) -> AccountPlan:
    plan = AccountPlan(item.account_id, item.account_name, "unchanged")
    if ev is None:
        plan.action = "not_in_datadog"
        return plan
    plan.datadog_config_id = ev.datadog_config_id
    plan.current = regions_setting(ev)
    if not denied_in_datadog(ev, item.exclusion):
        return plan  # no denied region in Datadog's setting: leave it as it is
    proposed = include_only_to_propose(proposed_include_only(ev, item.exclusion, allow_widen=allow_widen))
    widest = proposed_include_only(ev, item.exclusion, allow_widen=True)
    currently = set(ev.regions_include_only)
    kept = set(proposed or ())
    if not ev.regions_include_all:
        plan.removed = sorted(currently - kept)
        plan.added = sorted(kept - currently)
        plan.withheld = sorted(set(widest) - kept)
    else:
        plan.removed = sorted(set(item.exclusion.exclude))
    if proposed is None:  # the one rule (checks/include_only.py): never an empty include_only
        plan.action, plan.note = NO_REGION_LEFT, NO_REGION_REASON
        return plan
    plan.proposed = {"include_only": list(proposed)}
    plan.action = "would_update"
    return plan


def _apply(api: DatadogApi, plan: AccountPlan) -> None:
    regions = (plan.proposed or {}).get("include_only", [])
    try:
        api.update_regions(plan.datadog_config_id, plan.account_id, regions)
    except DatadogApiError as exc:
        plan.action, plan.error = "failed", str(exc)
        log.error("sync-regions: account %s: PATCH failed: %s", plan.account_id, exc)
        return
    _read_back(api, plan, regions)


def _read_back(api: DatadogApi, plan: AccountPlan, sent: Sequence[str]) -> None:
    """Datadog answers 200 and silently drops a region it does not support (a newly launched AWS
    region): only reading the config back shows what it will really collect from."""
    try:
        stored = api.get_account(plan.datadog_config_id)
    except DatadogApiError as exc:
        plan.action = "unverified"
        plan.error = f"the PATCH was accepted, but what Datadog stored could not be read back: {exc}"
        log.error("sync-regions: account %s: %s", plan.account_id, plan.error)
        return
    plan.stored = regions_setting(stored)
    kept = set(stored.regions_include_only)
    if stored.regions_include_all:
        plan.not_kept, plan.added_by_datadog = [], ["(all regions)"]
    else:
        plan.not_kept, plan.added_by_datadog = sorted(set(sent) - kept), sorted(kept - set(sent))
    if plan.not_kept or plan.added_by_datadog:
        plan.action = "not_kept"
        plan.error = _not_kept_message(plan)
        log.error("sync-regions: %s", plan.error)
        return
    plan.action = "updated"
    log.info("sync-regions: account %s (Datadog config %s): regions set to include_only %s, read back",
             plan.account_id, plan.datadog_config_id, ", ".join(sent))


def _not_kept_message(plan: AccountPlan) -> str:
    parts = []
    if plan.not_kept:
        parts.append(f"did not keep {', '.join(plan.not_kept)} (a region Datadog does not support yet "
                     "is dropped silently: the account stays unmonitored there)")
    if plan.added_by_datadog:
        parts.append(f"holds {', '.join(plan.added_by_datadog)} that was not sent")
    return (f"account {plan.account_id} (Datadog config {plan.datadog_config_id}): Datadog stored "
            f"{_setting(plan.stored or {})}; it " + " and ".join(parts))


def _show(plan: AccountPlan, out: TextIO) -> None:
    name = f" ({plan.account_name})" if plan.account_name else ""
    print(shown(f"{plan.account_id}{name}: {plan.action.replace('_', ' ')}"), file=out)
    if plan.current is not None and plan.proposed is not None:
        print(shown(f"  - {_setting(plan.current)}"), file=out)
        print(shown(f"  + {_setting(plan.proposed)}"), file=out)
        if plan.removed:
            print(shown(f"    removes: {', '.join(plan.removed)}"), file=out)
        if plan.added:
            print(shown(f"    adds: {', '.join(plan.added)}"), file=out)
        if plan.withheld:
            print(shown(f"    not added without --allow-widen: {', '.join(plan.withheld)}"), file=out)
    elif plan.current is not None:
        print(shown(f"    {_setting(plan.current)}"), file=out)
        if plan.removed and plan.action == NO_REGION_LEFT:
            print(shown(f"    denied: {', '.join(plan.removed)}"), file=out)
    if plan.note:
        print(shown(f"    {plan.note}"), file=out)
    if plan.stored is not None and plan.action != "updated":
        print(shown(f"    Datadog stored: {_setting(plan.stored)}"), file=out)
    if plan.error:
        print(shown(f"    {plan.error}"), file=out)


def _setting(setting: Mapping[str, Any]) -> str:
    if setting.get("include_all"):
        return "include_all"
    return "include_only: " + (", ".join(setting.get("include_only", [])) or "(none)")


def _hours(age: timedelta) -> str:
    return f"{age.total_seconds() / 3600:.1f} h"


# --- run folder ------------------------------------------------------------------------


def _run_finished_at(run_dir: Path) -> datetime:
    folder = RunFolder(run_dir)
    data = _from_run_folder(folder.read_run_json)
    value = data.get("finished_at")
    if not isinstance(value, str) or not value:
        raise SyncInputError(f"{folder.run_json}: \"finished_at\" is missing; expected an ISO 8601 UTC time")
    try:
        return clock.parse_iso(value)
    except ValueError:
        raise SyncInputError(f"{folder.run_json}: \"finished_at\" = {value!r} is not an ISO 8601 time") from None


def _from_run_folder(read: Callable[[], T]) -> T:
    """A run folder file read by report/load.py's parser; its error as this command's usage error."""
    try:
        return read()
    except RunLoadError as exc:
        hint = " (is --run a run folder?)" if isinstance(exc, RunFileMissing) else ""
        raise SyncInputError(f"{exc}{hint}") from None


def check_run_age(run_dir: Path, cfg: DatadogConfig, now: datetime, *, advice: str) -> timedelta:
    """The run's age (now - run.json's finished_at); SyncInputError, ending with `advice`, when it is
    older than [datadog] sync_max_run_age_hours. The one age rule for everything sent from a run folder."""
    age = now - _run_finished_at(run_dir)
    if age > timedelta(hours=cfg.sync_max_run_age_hours):
        raise SyncInputError(
            f"{run_dir}: run finished {_hours(age)} ago, older than [datadog] sync_max_run_age_hours = "
            f"{cfg.sync_max_run_age_hours:g}; {advice}"
        )
    return age


def _run_exclusions(run_dir: Path) -> list[RunExclusion]:
    path = RunFolder(run_dir).exclusions_json
    return list(_from_run_folder(lambda: read_exclusions(path)))


def _select_accounts(items: list[RunExclusion], wanted: Sequence[str]) -> list[RunExclusion]:
    if not wanted:
        return items
    known = {item.account_id for item in items}
    unknown = [a for a in wanted if a not in known]
    if unknown:
        raise SyncInputError(f"--account {unknown[0]}: not in the run's exclusions.json")
    return [item for item in items if item.account_id in set(wanted)]


def _write_record(run_dir: Path, now: datetime, record: Mapping[str, Any]) -> Path:
    """sync-<UTC timestamp>.json, written atomically (temp file + rename) and never overwritten."""
    stamp = clock.stamp(now)
    folder, n = RunFolder(run_dir), 0
    path = folder.sync_record(stamp)
    while path.exists():
        n += 1
        path = folder.sync_record(stamp, n)
    return write_json(path, record)
