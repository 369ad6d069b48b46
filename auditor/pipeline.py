"""run_audit(config, gateway) -> AuditResult: the whole run, and nothing else.

collect (Organizations once, then every account in a bounded thread pool) ->
analyse (pure: auditor.analysis) -> AuditResult. Writing outputs is the caller's job.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from botocore.exceptions import BotoCoreError, ClientError

from auditor import __version__
from auditor.analysis import analyze
from auditor.aws.account import AuditRole, ManagedPolicyCache, read_account
from auditor.aws.gateway import AwsGateway
from auditor.aws.organization import InventoryReader, partition_of
from auditor.config import Config
from auditor.datadog.source import load_expected_values
from auditor.heap import collector_paused, frozen_heap
from auditor.model import Account, AccountError, AccountSnapshot, AnalysisSettings, AuditResult, Inventory, RunInfo

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


class Interrupted(BaseException):
    """A stop request (SIGTERM) raised in the main thread. BaseException, like KeyboardInterrupt,
    so that no `except Exception` on the way swallows it."""

    def __init__(self, signal_name: str) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name


@dataclass(frozen=True)
class Collected:
    snapshots: dict[str, AccountSnapshot]  # every account asked for, exactly once
    aws_managed_documents: dict[str, str]
    incomplete_reason: str = ""  # "" when every account was read or given up on by its own deadline


class _FanOut:
    """Accounts handed to a bounded set of daemon threads, results back through a queue.

    Not a ThreadPoolExecutor: its workers are joined at interpreter exit, so one account stuck
    past its deadline would hold the process (and cron) hostage. Here an abandoned thread is
    simply left behind, a fresh worker takes its place, and whatever it returns is ignored.
    """

    def __init__(self, read: Callable[[Account], AccountSnapshot], accounts: tuple[Account, ...],
                 clock: Callable[[], float]) -> None:
        self._read = read
        self._clock = clock
        self._todo: deque[Account] = deque(accounts)
        self._lock = threading.Lock()
        self._started: dict[str, float] = {}
        # (start time, account id) in start order: the clock only moves forward, so the oldest
        # running account is at the left once finished ones are dropped (O(1) amortised).
        self._order: deque[tuple[float, str]] = deque()
        # Kept here by the workers, not only queued: an interrupt can land in the main thread
        # between taking a result off the queue and storing it, and no result may be lost.
        self._finished: dict[str, AccountSnapshot] = {}
        self._stop = threading.Event()
        self._workers = 0
        self.results: queue.SimpleQueue[tuple[Account, AccountSnapshot]] = queue.SimpleQueue()

    def add_worker(self) -> None:
        with self._lock:
            if not self._todo or self._stop.is_set():
                return
            self._workers += 1
            name = f"account-{self._workers}"
        threading.Thread(target=self._work, name=name, daemon=True).start()

    def _next(self) -> Account | None:
        with self._lock:
            if self._stop.is_set() or not self._todo:
                return None
            acct = self._todo.popleft()
            started = self._started[acct.id] = self._clock()
            self._order.append((started, acct.id))
            return acct

    def _work(self) -> None:
        while (acct := self._next()) is not None:
            try:
                snap = self._read(acct)
            except Exception as exc:  # a bug must not lose the account, nor the other accounts
                log.exception("account %s: unexpected error", acct.id)
                snap = AccountSnapshot(acct.id, role=None, error=AccountError("internal", type(exc).__name__, str(exc)))
            with self._lock:
                self._finished[acct.id] = snap
            self.results.put((acct, snap))

    def oldest_running(self, done: Mapping[str, object]) -> tuple[float, str] | None:
        """The earliest-started account not in `done` (called from the main thread only)."""
        with self._lock:
            while self._order and self._order[0][1] in done:
                self._order.popleft()
            return self._order[0] if self._order else None

    def started(self) -> dict[str, float]:
        with self._lock:
            return dict(self._started)

    def finished(self) -> dict[str, AccountSnapshot]:
        with self._lock:
            return dict(self._finished)

    def stop(self) -> None:
        """No account is started after this; running ones finish (or not) unobserved."""
        with self._lock:
            self._stop.set()
            self._todo.clear()


def collect_accounts(
    gateway: AwsGateway,
    cfg: Config,
    accounts: tuple[Account, ...],
    partition: str,
    caller_account: str,
    progress: Callable[[AccountSnapshot], None] | None = None,
    *,
    deadline: float | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Collected:
    """Read every account concurrently. Every account comes back exactly once: read, an error
    (AWS error, account deadline), or, when the run stops early, an error saying why.

    `deadline` is the whole run's (a `clock()` value; default: [run] run_timeout_seconds from now).
    An interrupt (KeyboardInterrupt, `Interrupted`) stops the fan-out and keeps what finished.
    """
    accounts = _unique(accounts)  # the loop below counts ids: a duplicate would stall it
    o = cfg.organization
    role = AuditRole(o.audit_role_name, o.audit_role_path, o.audit_role_external_id, o.session_name)
    sts = gateway.client("sts")
    cache = ManagedPolicyCache()
    account_limit = cfg.run.account_timeout_seconds
    run_deadline = clock() + cfg.run.run_timeout_seconds if deadline is None else deadline

    def read(a: Account) -> AccountSnapshot:
        return read_account(gateway, sts, a.id, partition, audit_role=role, datadog_role_name=cfg.datadog.role_name,
                            use_caller_credentials=a.id == caller_account, managed_cache=cache)

    fan = _FanOut(read, accounts, clock)
    snapshots: dict[str, AccountSnapshot] = {}
    reason = ""
    for _ in range(min(cfg.run.workers, len(accounts))):
        fan.add_worker()
    try:
        while len(snapshots) < len(accounts):
            now = clock()
            while (oldest := fan.oldest_running(snapshots)) and now - oldest[0] >= account_limit:
                snapshots[oldest[1]] = _gave_up(oldest[1], AccountError(
                    "timeout", "AccountTimeout",
                    f"still being read after {account_limit:g}s ([run] account_timeout_seconds)"))
                fan.add_worker()  # the stuck thread keeps its slot; the pool keeps its width
            if len(snapshots) == len(accounts):
                break
            if now >= run_deadline:
                reason = f"the run deadline of {cfg.run.run_timeout_seconds:g}s ([run] run_timeout_seconds) was reached"
                break
            wake = min(run_deadline, oldest[0] + account_limit) if oldest else run_deadline
            try:
                acct, snap = fan.results.get(timeout=max(0.0, wake - now))
            except queue.Empty:
                continue
            if acct.id in snapshots:  # finished after its deadline: already reported as a timeout
                log.info("account %s: late result discarded (already reported as %s)", acct.id,
                         snapshots[acct.id].error.code if snapshots[acct.id].error else "read")
                continue
            snapshots[acct.id] = snap
            _log_outcome(acct, snap)
            if progress:
                progress(snap)
    except (KeyboardInterrupt, Interrupted) as exc:
        name = exc.signal_name if isinstance(exc, Interrupted) else "SIGINT"
        reason = f"interrupted by {name}"
    finally:
        fan.stop()
    if reason:
        # Accounts that finished while the main thread was busy elsewhere are results too.
        by_id = {a.id: a for a in accounts}
        for acct_id, snap in fan.finished().items():
            if acct_id not in snapshots:
                snapshots[acct_id] = snap
                _log_outcome(by_id[acct_id], snap)
        log.error("%s: %d of %d accounts finished; the others are reported as errors and the run as incomplete",
                  reason, len(snapshots), len(accounts))
        started = fan.started()
        code = "Interrupted" if reason.startswith("interrupted") else "RunDeadline"
        stage = "interrupted" if code == "Interrupted" else "timeout"
        for a in accounts:
            if a.id not in snapshots:
                what = "still being read" if a.id in started else "not read"
                # INFO: one ERROR line above says it for all of them.
                snapshots[a.id] = _gave_up(a.id, AccountError(stage, code, f"{what}: {reason}"), logging.INFO)
    return Collected(snapshots, cache.documents(), reason)


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


def _gave_up(account_id: str, error: AccountError, level: int = logging.WARNING) -> AccountSnapshot:
    account_log.log(level, "account %s: %s: %s", account_id, error.code, error.message)
    return AccountSnapshot(account_id, role=None, error=error)


# One line per account outcome. The console shows only the warnings of this logger (an
# organization of thousands of accounts would drown it); the log file keeps every line.
account_log = logging.getLogger("auditor.accounts")


def _log_outcome(acct: Account, snap: AccountSnapshot) -> None:
    if snap.error:
        account_log.warning("account %s (%s): error at %s: %s: %s", acct.id, acct.name, snap.error.stage,
                    snap.error.code, snap.error.message)
    elif snap.role is None:
        account_log.info("account %s (%s): Datadog role not found", acct.id, acct.name)
    else:
        account_log.info("account %s (%s): Datadog role %s read (%d calls)",
                         acct.id, acct.name, snap.role.arn, snap.api_calls)


def run_audit(
    cfg: Config,
    gateway: AwsGateway,
    *,
    env: Mapping[str, str] | None = None,
    progress_factory: Callable[[int], Callable[[AccountSnapshot], None]] | None = None,
) -> AuditResult:
    started = now_iso()
    deadline = time.monotonic() + cfg.run.run_timeout_seconds
    env = os.environ if env is None else env
    # Before any AWS call: a bad CSV is an input error, and the Datadog side is read once.
    expected = load_expected_values(cfg, env)
    try:
        caller = gateway.client("sts").get_caller_identity()
        # The tree first; the SCP/RCP target listings (the phase's longest chains of pages)
        # go on in the background while the accounts are read.
        reader = InventoryReader(gateway)
        structure = _deduplicated(reader.structure(), warn=True)
    except (ClientError, BotoCoreError) as exc:
        raise _unreadable(exc) from exc
    partition = partition_of(caller["Arn"])
    scope = select_scope(structure, cfg)
    log.info("auditing %d accounts (%d skipped) with %d workers",
             len(scope.audited), len(scope.skipped), cfg.run.workers)
    progress = progress_factory(len(scope.audited)) if progress_factory else None
    # Clients, service models and the tree live to the end of the run: the GC need not walk them again.
    with frozen_heap():
        collected = collect_accounts(gateway, cfg, scope.audited, partition, caller["Account"], progress,
                                     deadline=deadline)
        snapshots, aws_managed = collected.snapshots, collected.aws_managed_documents
        try:
            inventory = _deduplicated(reader.inventory(), warn=False)
        except (ClientError, BotoCoreError) as exc:
            raise _unreadable(exc) from exc
        regions = cfg.regions.audited or gateway.available_regions(inventory.partition)
        with frozen_heap(), collector_paused():  # the analysis is pure and makes no cycles (heap.py)
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
        complete=not collected.incomplete_reason,
        incomplete_reason=collected.incomplete_reason,
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
        settings=AnalysisSettings(
            site=cfg.datadog.site,
            role_name=cfg.datadog.role_name,
            probe_actions=cfg.regions.probe_actions,
            exclude_partial=cfg.regions.exclude_partial,
        ),
    )
