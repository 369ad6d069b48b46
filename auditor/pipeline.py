"""run_audit(config, gateway) -> AuditResult: the whole run, and nothing else.

collect (Organizations once, then every account in a bounded thread pool) ->
analyse (pure: auditor.analysis) -> AuditResult. Writing outputs is the caller's job.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import UTC, datetime

from botocore.exceptions import BotoCoreError, ClientError

from auditor import __version__
from auditor.analysis import analyze
from auditor.aws.account import AuditRole, ManagedPolicyCache, read_account
from auditor.aws.gateway import AwsGateway
from auditor.aws.organization import collect_inventory, partition_of
from auditor.config import Config
from auditor.datadog.source import load_expected_values
from auditor.model import Account, AccountError, AccountSnapshot, AuditResult, Inventory, RunInfo

log = logging.getLogger("auditor")


class RunError(RuntimeError):
    """The run could not complete (e.g. the organization could not be read): exit code 3."""


@dataclass(frozen=True)
class Scope:
    audited: tuple[Account, ...]
    skipped: tuple[tuple[str, str], ...]  # (account id, reason)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _matches_ou(account: Account, units_by_id: Mapping[str, str], selectors: tuple[str, ...]) -> str | None:
    """The selector (OU id or path) that contains the account, if any: subtrees included."""
    for sel in selectors:
        if sel.startswith(("ou-", "r-")):
            if sel in account.chain:
                return sel
        elif account.ou_path == sel or account.ou_path.startswith(sel + "/"):
            return sel
    return None


def select_scope(inventory: Inventory, cfg: Config) -> Scope:
    o = cfg.organization
    units = {u.id: u.path for u in inventory.units}
    audited: list[Account] = []
    skipped: list[tuple[str, str]] = []
    for acct in inventory.accounts:
        reason = ""
        if not acct.active:
            reason = f"account is {acct.status.lower()}"
        elif acct.id in o.exclude_accounts:
            reason = "excluded by [organization] exclude_accounts"
        elif o.include_accounts and acct.id not in o.include_accounts and not (
            o.include_ous and _matches_ou(acct, units, o.include_ous)
        ):
            reason = "not in [organization] include_accounts / include_ous"
        elif o.include_ous and not o.include_accounts and not _matches_ou(acct, units, o.include_ous):
            reason = "not under [organization] include_ous"
        elif sel := _matches_ou(acct, units, o.exclude_ous):
            reason = f"under excluded OU {sel} ([organization] exclude_ous)"
        elif acct.id == inventory.management_account_id and not o.audit_management_account:
            reason = "management account ([organization] audit_management_account = false)"
        if reason:
            skipped.append((acct.id, reason))
        else:
            audited.append(acct)
    return Scope(tuple(audited), tuple(skipped))


def collect_accounts(
    gateway: AwsGateway,
    cfg: Config,
    accounts: tuple[Account, ...],
    partition: str,
    caller_account: str,
    progress: Callable[[AccountSnapshot], None] | None = None,
) -> tuple[dict[str, AccountSnapshot], dict[str, str]]:
    """Read every account concurrently. Every account comes back exactly once."""
    o = cfg.organization
    role = AuditRole(o.audit_role_name, o.audit_role_path, o.audit_role_external_id, o.session_name)
    sts = gateway.client("sts")
    cache = ManagedPolicyCache()
    snapshots: dict[str, AccountSnapshot] = {}
    pool = ThreadPoolExecutor(max_workers=cfg.run.workers, thread_name_prefix="account")
    futures = {
        pool.submit(
            read_account,
            gateway,
            sts,
            a.id,
            partition,
            audit_role=role,
            datadog_role_name=cfg.datadog.role_name,
            use_caller_credentials=a.id == caller_account,
            managed_cache=cache,
        ): a
        for a in accounts
    }
    try:
        for fut in as_completed(futures, timeout=cfg.run.run_timeout_seconds):
            acct = futures[fut]
            try:
                snap = fut.result()
            except Exception as exc:  # a bug must not lose the other accounts
                log.exception("account %s: unexpected error", acct.id)
                snap = AccountSnapshot(acct.id, role=None, error=AccountError("internal", type(exc).__name__, str(exc)))
            snapshots[acct.id] = snap
            _log_outcome(acct, snap)
            if progress:
                progress(snap)
    except FutureTimeout:
        log.error("run deadline of %ss reached; unfinished accounts are reported as errors", cfg.run.run_timeout_seconds)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    for acct in accounts:
        if acct.id not in snapshots:
            snapshots[acct.id] = AccountSnapshot(
                acct.id, role=None, error=AccountError("timeout", "RunDeadline", "the run deadline was reached first")
            )
    return snapshots, cache.documents()


def _log_outcome(acct: Account, snap: AccountSnapshot) -> None:
    if snap.error:
        log.warning("account %s (%s): error at %s: %s: %s", acct.id, acct.name, snap.error.stage,
                    snap.error.code, snap.error.message)
    elif snap.role is None:
        log.info("account %s (%s): Datadog role not found", acct.id, acct.name)
    else:
        log.info("account %s (%s): Datadog role %s read (%d calls)", acct.id, acct.name, snap.role.arn, snap.api_calls)


def run_audit(
    cfg: Config,
    gateway: AwsGateway,
    *,
    env: Mapping[str, str] | None = None,
    progress_factory: Callable[[int], Callable[[AccountSnapshot], None]] | None = None,
) -> AuditResult:
    started = now_iso()
    env = os.environ if env is None else env
    # Before any AWS call: a bad CSV is an input error, and the Datadog side is read once.
    expected = load_expected_values(cfg, env)
    try:
        caller = gateway.client("sts").get_caller_identity()
        inventory = collect_inventory(gateway)
    except (ClientError, BotoCoreError) as exc:
        raise RunError(f"cannot read the organization: {exc}") from exc
    partition = partition_of(caller["Arn"])
    scope = select_scope(inventory, cfg)
    log.info("auditing %d accounts (%d skipped) with %d workers", len(scope.audited), len(scope.skipped), cfg.run.workers)
    progress = progress_factory(len(scope.audited)) if progress_factory else None
    snapshots, aws_managed = collect_accounts(gateway, cfg, scope.audited, partition, caller["Account"], progress)
    regions = cfg.regions.audited or gateway.available_regions(inventory.partition)
    findings, verdicts, exclusions = analyze(
        inventory,
        {a.id: snapshots[a.id] for a in scope.audited},
        cfg=cfg,
        regions=regions,
        expected=expected.values,
        aws_managed_documents=aws_managed,
        extra_findings=expected.findings,
        datadog_inventory_complete=expected.name == "datadog_api" and not expected.findings,
    )
    run = RunInfo(
        started_at=started,
        finished_at=now_iso(),
        tool_version=__version__,
        config_digest=cfg.digest,
        caller_arn=caller["Arn"],
        api_calls=tuple(gateway.api_calls().items()),
    )
    return AuditResult(
        run=run,
        inventory=inventory,
        audited_regions=tuple(regions),
        snapshots=tuple(snapshots[a.id] for a in scope.audited),
        findings=tuple(findings),
        regions=tuple(verdicts),
        exclusions=tuple(exclusions),
        skipped=scope.skipped,
        expected=tuple(expected.values.values()),
        aws_managed_documents=tuple(sorted(aws_managed.items())),
    )
