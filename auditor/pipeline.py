"""run_audit(config, gateway) -> AuditResult: the whole run, and nothing else.

collect (Organizations once; each account read, in a bounded thread pool, as soon as it is
listed: auditor.fanout) -> analyse (pure: auditor.analysis) -> AuditResult. Writing outputs is
the caller's job.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import partial
from typing import Protocol

from botocore.exceptions import BotoCoreError, ClientError

from auditor import __version__, clock
from auditor.analysis import analyze
from auditor.aws.gateway import AwsGateway
from auditor.aws.organization import InventoryReader, partition_of
from auditor.config import Config, audited_regions
from auditor.datadog.source import load_expected_values
from auditor.fanout import AccountStream, Collected, collect_accounts, stop_error
from auditor.heap import collector_paused, frozen_heap
from auditor.model import Account, AccountSnapshot, AnalysisSettings, AuditResult, Inventory, RunInfo
from auditor.stop import Interrupted, StopGate, stop_signal_name

log = logging.getLogger("auditor")

# Re-exported: the fan-out's names are part of the pipeline's interface (commands, tests, bench).
__all__ = ["Collected", "Interrupted", "ProgressBar", "RunError", "Scope", "collect_accounts", "run_audit",
           "select_scope", "skip_reason"]


class RunError(RuntimeError):
    """The run could not complete (e.g. the organization could not be read): exit code 3."""


@dataclass(frozen=True)
class Scope:
    audited: tuple[Account, ...]
    skipped: tuple[tuple[str, str], ...]  # (account id, reason)


def _matches_ou(account: Account, selectors: tuple[str, ...]) -> str | None:
    """The selector (OU id or path) that contains the account, if any: subtrees included."""
    for sel in selectors:
        if sel.startswith(("ou-", "r-")):
            if sel in account.chain:
                return sel
        elif account.ou_path == sel or account.ou_path.startswith(sel + "/"):
            return sel
    return None


def skip_reason(acct: Account, cfg: Config, management_account_id: str) -> str:
    """Why the account is not audited ("" when it is): one rule for the streamed fan-out and the scope."""
    o = cfg.organization
    if not acct.active:
        return f"account is {acct.status.lower()}"
    if acct.id in o.exclude_accounts:
        return "excluded by [organization] exclude_accounts"
    if o.include_accounts and acct.id not in o.include_accounts and not (
        o.include_ous and _matches_ou(acct, o.include_ous)
    ):
        return "not in [organization] include_accounts / include_ous"
    if o.include_ous and not o.include_accounts and not _matches_ou(acct, o.include_ous):
        return "not under [organization] include_ous"
    if sel := _matches_ou(acct, o.exclude_ous):
        return f"under excluded OU {sel} ([organization] exclude_ous)"
    if acct.id == management_account_id and not o.audit_management_account:
        return "management account ([organization] audit_management_account = false)"
    return ""


def select_scope(inventory: Inventory, cfg: Config) -> Scope:
    audited: list[Account] = []
    skipped: list[tuple[str, str]] = []
    for acct in inventory.accounts:
        if reason := skip_reason(acct, cfg, inventory.management_account_id):
            skipped.append((acct.id, reason))
        else:
            audited.append(acct)
    return Scope(tuple(audited), tuple(skipped))


def _unreadable(exc: Exception) -> RunError:
    # Auditing part of an organization would silently hide accounts: no result at all.
    return RunError(f"cannot read the organization ({exc}); no account was audited, nothing was written")


def _deduplicated(inventory: Inventory, *, warn: bool) -> Inventory:
    if len(unique := _unique(inventory.accounts)) == len(inventory.accounts):
        return inventory
    if warn:
        log.warning("Organizations listed %d account(s) twice; each is audited once",
                    len(inventory.accounts) - len(unique))
    return replace(inventory, accounts=unique)


def _unique(accounts: tuple[Account, ...]) -> tuple[Account, ...]:
    first: dict[str, Account] = {}
    for a in accounts:
        first.setdefault(a.id, a)
    return tuple(first.values())


def _read_policies(reader: InventoryReader, stops: StopGate, deadline: float, seconds: float) -> tuple[Inventory, str]:
    """The whole inventory, and "" ; or, when a stop request, the run deadline or an AWS error comes
    while the policies are still being listed (after every account is read: the policies' target
    listings are the longest chains), the tree alone and why: the accounts already read are kept,
    and no region is judged. Without the tree no account can be reported: a stop request or the
    deadline waits for the walk (a request stays held until then), and an error of the walk itself
    is raised."""
    listing = "while the organization's policies were being read"
    try:
        while not reader.finished(timeout=0.5):  # in slices: a stop request is taken between them
            if (structure := reader.structure_if_walked()) is None:
                continue
            if name := stops.take():
                return _tree_alone(structure, f"interrupted by {name} {listing}")
            if time.monotonic() >= deadline:
                return _tree_alone(structure, f"the run deadline of {seconds:g}s ([run] run_timeout_seconds) was "
                                              f"reached {listing}")
        return _deduplicated(reader.inventory(), warn=True), ""
    except (KeyboardInterrupt, Interrupted) as exc:  # raised by a handler other than a StopGate
        return _tree_alone(_walked(reader, exc), f"interrupted by {stop_signal_name(exc)} {listing}")
    except (ClientError, BotoCoreError) as exc:
        return _tree_alone(_walked(reader, exc), f"the organization's policies could not be read ({exc})")


def _walked(reader: InventoryReader, exc: BaseException) -> Inventory:
    """The tree, or `exc` raised: without it there is nothing to stand on."""
    structure = reader.structure_if_walked()
    if structure is None:
        raise exc
    return structure


def _tree_alone(structure: Inventory, why: str) -> tuple[Inventory, str]:
    log.error("%s: every account read is kept; no region is judged without the SCPs and RCPs", why)
    return _deduplicated(structure, warn=True), why


def _every_account(audited: tuple[Account, ...], collected: Collected) -> dict[str, AccountSnapshot]:
    """A snapshot per audited account. The stream admits exactly the audited accounts, but a run
    stopped early (interrupt, run deadline) may stop before the tree was walked: the accounts not
    listed by then are reported like the ones not read."""
    out = {}
    for a in audited:
        snap = collected.snapshots.get(a.id)
        if snap is None:
            snap = AccountSnapshot(a.id, role=None, error=stop_error(collected.incomplete_reason or "the run stopped",
                                                                     "not listed yet"))
        out[a.id] = snap
    return out


def _stop_reason(stops: StopGate, deadline: float, seconds: float) -> str:
    """The analysis's stop question: a stop request held by the gate, or the run deadline, worded
    like the fan-out's."""
    if name := stops.take():
        return f"interrupted by {name}"
    if time.monotonic() < deadline:
        return ""
    return f"the run deadline of {seconds:g}s ([run] run_timeout_seconds) was reached"


def _warn_opt_in_unknown(snapshots: Mapping[str, AccountSnapshot]) -> None:
    """One warning per run (not per account) when some accounts' region opt-in status is unknown."""
    unknown = [(a, s.region_opt_in.error) for a, s in snapshots.items() if s.region_opt_in and s.region_opt_in.error]
    if not unknown:
        return
    codes = sorted({error.split(":", 1)[0] for _, error in unknown})
    log.warning("the region opt-in status of %d account(s) could not be read (ec2:DescribeRegions: %s; first: "
                "account %s): every audited region counts as enabled for them. The audit role needs "
                "ec2:DescribeRegions (config/audit-role-policy.json)", len(unknown), ", ".join(codes), unknown[0][0])


class ProgressBar(Protocol):
    """What the run drives: tqdm's own interface. `total` is None (tqdm counts without one) until
    the tree is walked and the number of accounts to read is known."""

    total: int | None

    def update(self, n: int = 1) -> object: ...

    def refresh(self) -> object: ...


def _total_known(bar: ProgressBar, stream: AccountStream) -> None:
    if bar.total is None and stream.closed:
        bar.total = stream.count()
        bar.refresh()


def _ticking(bar: ProgressBar, stream: AccountStream) -> Callable[[AccountSnapshot], None]:
    """One tick per account read, from the first one on (called from the main thread only)."""

    def tick(_snap: AccountSnapshot) -> None:
        _total_known(bar, stream)
        bar.update(1)

    return tick


def run_audit(
    cfg: Config,
    gateway: AwsGateway,
    *,
    env: Mapping[str, str] | None = None,
    progress: ProgressBar | None = None,
    stops: StopGate | None = None,
) -> AuditResult:
    """One audit run, from Organizations to the analysed result (nothing written).

    `stops`: the installed StopGate of the caller (`auditor run`'s). From the first account read
    on it holds stop requests, and each phase takes one where it can stop cleanly: whatever was
    read is kept and the result is marked incomplete. Without one, a stop request is whatever the
    signal handler raises; each phase catches it too, but not where it lands between phases.
    """
    stops = StopGate() if stops is None else stops
    started = clock.now_iso()
    deadline = time.monotonic() + cfg.run.run_timeout_seconds
    env = os.environ if env is None else env
    # Before any AWS call: a bad CSV is an input error, and the Datadog side is read once.
    expected = load_expected_values(cfg, env)
    # Accounts are read as soon as Organizations lists them, while the rest of the tree is walked
    # and the SCP/RCP target listings (the phase's longest chains of pages) go on in the background.
    # The walk starts first: who we are (one round trip) is needed only once accounts are listed.
    stream = AccountStream(admit=lambda acct, management: not skip_reason(acct, cfg, management))
    reader = InventoryReader(gateway, listener=stream)
    try:
        caller = gateway.client("sts").get_caller_identity()
    except (ClientError, BotoCoreError) as exc:
        raise _unreadable(exc) from exc
    partition = partition_of(caller["Arn"])
    # Before any account is read: a region name outside the partition is a config error (exit 2).
    regions = audited_regions(cfg, partition, gateway.regions_by_partition())
    log.info("reading the accounts as Organizations lists them, with %d workers", cfg.run.workers)
    stops.hold()  # from here on something read may be lost: requests wait for a phase to take them
    # Clients, service models and the tree live to the end of the run: the GC need not walk them again.
    with frozen_heap():
        try:
            tick = _ticking(progress, stream) if progress is not None else None  # a tqdm has no bool()
            collected = collect_accounts(gateway, cfg, stream, partition, caller["Account"], tick, deadline=deadline,
                                         stops=stops)
            if progress is not None:  # the walk may end after the last account was read
                _total_known(progress, stream)
            inventory, policies_unread = _read_policies(reader, stops, deadline, cfg.run.run_timeout_seconds)
        except (ClientError, BotoCoreError) as exc:  # accounts are never errors: the organization is
            raise _unreadable(exc) from exc
        scope = select_scope(inventory, cfg)
        log.info("%d accounts in scope, %d skipped", len(scope.audited), len(scope.skipped))
        snapshots = _every_account(scope.audited, collected)
        _warn_opt_in_unknown(snapshots)
        aws_managed = collected.aws_managed_documents
        with frozen_heap(), collector_paused():  # the analysis is pure and makes no cycles (heap.py)
            analysis = analyze(
                inventory,
                snapshots,
                cfg=cfg,
                regions=regions,
                expected=expected.values,
                aws_managed_documents=aws_managed,
                datadog_error=expected.error,
                datadog_inventory_complete=expected.name == "datadog_api" and not expected.error,
                policies_unread=policies_unread,
                should_stop=partial(_stop_reason, stops, deadline, cfg.run.run_timeout_seconds),
                required_permissions=expected.permissions,
            )
    incomplete = "; ".join(r for r in (collected.incomplete_reason, policies_unread, analysis.incomplete_reason) if r)
    run = RunInfo(
        started_at=started,
        finished_at=clock.now_iso(),
        tool_version=__version__,
        config_digest=cfg.digest,
        caller_arn=caller["Arn"],
        complete=not incomplete,
        incomplete_reason=incomplete,
        api_calls=tuple(gateway.api_calls().items()),
    )
    return AuditResult(
        run=run,
        inventory=inventory,
        audited_regions=tuple(regions),
        snapshots=tuple(snapshots.values()),
        findings=analysis.findings,
        regions=analysis.verdicts,
        exclusions=analysis.exclusions,
        skipped=scope.skipped,
        expected=tuple(expected.values.values()),
        aws_managed_documents=tuple(sorted(aws_managed.items())),
        settings=AnalysisSettings(
            site=cfg.datadog.site,
            role_name=cfg.datadog.role_name,
            probe_actions=cfg.regions.probe_actions,
            exclude_partial=cfg.regions.exclude_partial,
            required_permissions=expected.permissions,
        ),
    )
