"""Read every account concurrently, starting as soon as Organizations lists the first ones.

`AccountStream` receives accounts unit by unit while the tree is walked (it is the
InventoryReader's listener): the fan-out's first round overlaps the rest of the walk instead of
waiting for the whole tree. `collect_accounts` reads what the stream hands out in a bounded set of
threads; every account comes back exactly once: read, an error (AWS error, account deadline),
or, when the run stops early, an error saying why.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import cast

from auditor.aws.account import AuditRole, ManagedPolicyCache, read_account
from auditor.aws.gateway import AwsGateway
from auditor.aws.lane import SideLane
from auditor.config import Config
from auditor.model import Account, AccountError, AccountSnapshot
from auditor.stop import Interrupted, StopGate, stop_signal_name

log = logging.getLogger("auditor")
# One line per account outcome. The console shows only the warnings of this logger (an
# organization of thousands of accounts would drown it); the log file keeps every line.
account_log = logging.getLogger("auditor.accounts")


@dataclass(frozen=True)
class Collected:
    snapshots: dict[str, AccountSnapshot]  # every account handed out by the stream, exactly once
    aws_managed_documents: dict[str, str]
    incomplete_reason: str = ""  # "" when every account was read or given up on by its own deadline


class AccountStream:
    """Accounts to read, each once, in the order they were listed; closed once the tree is walked.

    Fed from the Organizations thread (`accounts_listed`, `tree_walked`, `tree_failed`: the
    InventoryReader's listener interface), drained by the fan-out's workers (`take`).
    `admit(account, management_account_id)` decides what is in scope.
    """

    def __init__(self, admit: Callable[[Account, str], bool] = lambda _a, _m: True) -> None:
        self._admit = admit
        self._cond = threading.Condition()
        self._todo: deque[Account] = deque()
        self._listed: dict[str, Account] = {}  # every admitted account, first listing wins
        self._closed = False
        self._stopped = False
        self.error: BaseException | None = None
        self.on_change: Callable[[], None] = lambda: None  # called when closed or failed (any thread)

    @classmethod
    def of(cls, accounts: Sequence[Account]) -> AccountStream:
        """A stream of accounts already known."""
        stream = cls()
        stream.accounts_listed(accounts, "")
        stream.tree_walked()
        return stream

    # -- fed by the Organizations walk ------------------------------------------------------------
    def accounts_listed(self, accounts: Sequence[Account], management_account_id: str) -> None:
        with self._cond:
            for a in accounts:
                # A duplicate listing is read once (the loop that waits for results counts ids).
                if a.id not in self._listed and self._admit(a, management_account_id):
                    self._listed[a.id] = a
                    self._todo.append(a)
            self._cond.notify_all()

    def tree_walked(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self.on_change()

    def tree_failed(self, error: BaseException) -> None:
        with self._cond:
            self.error, self._closed = error, True
            self._cond.notify_all()
        self.on_change()

    # -- drained by the fan-out -------------------------------------------------------------------
    def take(self) -> Account | None:
        """The next account to read; blocks while the tree is still being walked. None: no more."""
        with self._cond:
            while not self._todo and not self._closed and not self._stopped:
                self._cond.wait()
            if self._stopped or not self._todo:
                return None
            return self._todo.popleft()

    def stop(self) -> None:
        """Hand out nothing more (accounts already handed out are not recalled)."""
        with self._cond:
            self._stopped = True
            self._todo.clear()
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        with self._cond:
            return self._closed

    def listed(self) -> list[Account]:
        """The accounts admitted so far."""
        with self._cond:
            return list(self._listed.values())

    def count(self) -> int:
        with self._cond:
            return len(self._listed)


_WAKE = object()  # put on the results queue to wake the main thread when the stream closes or fails


class _FanOut:
    """Accounts from a stream handed to a bounded set of daemon threads, results back through a queue.

    Not a ThreadPoolExecutor: its workers are joined at interpreter exit, so one account stuck
    past its deadline would hold the process (and cron) hostage. Here an abandoned thread is
    simply left behind, a fresh worker takes its place, and whatever it returns is ignored.
    """

    def __init__(self, read: Callable[[Account], AccountSnapshot], stream: AccountStream,
                 clock: Callable[[], float], prepare: Callable[[], object] = lambda: None) -> None:
        self._read = read
        self._prepare = prepare
        self._stream = stream
        self._clock = clock
        self._lock = threading.Lock()
        self._started: dict[str, float] = {}
        # (start time, account id) in start order: the clock only moves forward, so the oldest
        # running account is at the left once finished ones are dropped (O(1) amortised).
        self._order: deque[tuple[float, str]] = deque()
        # Kept here by the workers, not only queued: an interrupt can land in the main thread
        # between taking a result off the queue and storing it, and no result may be lost.
        self._finished: dict[str, AccountSnapshot] = {}
        self._workers = 0
        self.results: queue.SimpleQueue[object] = queue.SimpleQueue()
        stream.on_change = lambda: self.results.put(_WAKE)

    def add_worker(self) -> None:
        with self._lock:
            self._workers += 1
            name = f"account-{self._workers}"
        threading.Thread(target=self._work, name=name, daemon=True).start()

    def _work(self) -> None:
        try:
            self._prepare()
        except Exception:  # only an optimisation: the first read makes what it needs anyway
            log.debug("worker preparation failed", exc_info=True)
        while (acct := self._stream.take()) is not None:
            with self._lock:
                started = self._started[acct.id] = self._clock()
                idle = not self._order
                self._order.append((started, acct.id))
            if idle:
                # The main thread may be asleep with no account running (waiting for the walk): it must
                # wake to see this one's deadline.
                self.results.put(_WAKE)
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
        self._stream.stop()


def collect_accounts(
    gateway: AwsGateway,
    cfg: Config,
    accounts: Sequence[Account] | AccountStream,
    partition: str,
    caller_account: str,
    progress: Callable[[AccountSnapshot], None] | None = None,
    *,
    deadline: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    stops: StopGate | None = None,
) -> Collected:
    """Read every account the stream hands out (or every account given) concurrently.

    `deadline` is the whole run's (a `clock()` value; default: [run] run_timeout_seconds from now).
    A stop request held by `stops` (taken between results), or one raised by another handler
    (KeyboardInterrupt, `Interrupted`), stops the fan-out and keeps what finished.
    If the stream fails (Organizations could not be read), its error is raised.
    """
    stops = StopGate() if stops is None else stops
    stream = accounts if isinstance(accounts, AccountStream) else AccountStream.of(accounts)
    o = cfg.organization
    role = AuditRole(o.audit_role_name, o.audit_role_path, o.audit_role_external_id, o.session_name)
    sts = gateway.client("sts")
    cache = ManagedPolicyCache()
    run_deadline = clock() + cfg.run.run_timeout_seconds if deadline is None else deadline

    # As wide as the fan-out: an account's opt-in read never waits behind another account's.
    lane = SideLane(cfg.run.workers, "opt-in")

    def read(a: Account) -> AccountSnapshot:
        return read_account(gateway, sts, a.id, partition, audit_role=role, datadog_role_name=cfg.datadog.role_name,
                            use_caller_credentials=a.id == caller_account, managed_cache=cache, lane=lane)

    # Each worker builds its IAM client (milliseconds of CPU, one thread at a time), and the first one
    # the opt-in lane's shared EC2 client, before its first account: while the tree is still being
    # listed, not on the first round's critical path.
    fan = _FanOut(read, stream, clock, prepare=lambda: (gateway.account_client("iam"),
                                                        gateway.shared_account_client("ec2")))
    snapshots: dict[str, AccountSnapshot] = {}
    reason = ""
    # Known up front, or (streamed) the configured width: idle workers wait for the walk.
    width = cfg.run.workers if not stream.closed else min(cfg.run.workers, stream.count())
    try:
        with stops.waking(lambda: fan.results.put(_WAKE)):  # SimpleQueue.put: safe in a signal handler
            for _ in range(width):  # inside the `try`: an interrupt may land while a thread starts
                fan.add_worker()
            reason = _gather(fan, stream, snapshots, stops, cfg, run_deadline, clock, progress)
    except (KeyboardInterrupt, Interrupted) as exc:
        name = stop_signal_name(exc)
        reason = f"interrupted by {name}"
    finally:
        fan.stop()
        lane.close()
    if reason:
        _finish_early(reason, stream.listed(), fan, snapshots)
    return Collected(snapshots, cache.documents(), reason)


def _gather(
    fan: _FanOut,
    stream: AccountStream,
    snapshots: dict[str, AccountSnapshot],
    stops: StopGate,
    cfg: Config,
    run_deadline: float,
    clock: Callable[[], float],
    progress: Callable[[AccountSnapshot], None] | None,
) -> str:
    """Results into `snapshots` until every account listed is done (""), or why it stopped early: a
    stop request, the run deadline. An account past its own deadline is given up, and replaced."""
    account_limit = cfg.run.account_timeout_seconds
    while True:
        if stream.error is not None:
            raise stream.error
        if stream.closed and len(snapshots) >= stream.count():
            return ""
        if name := stops.take():
            return f"interrupted by {name}"
        now = clock()
        while (oldest := fan.oldest_running(snapshots)) and now - oldest[0] >= account_limit:
            snapshots[oldest[1]] = _gave_up(oldest[1], AccountError(
                "timeout", "AccountTimeout",
                f"still being read after {account_limit:g}s ([run] account_timeout_seconds)"))
            fan.add_worker()  # the stuck thread keeps its slot; the pool keeps its width
        if stream.closed and len(snapshots) >= stream.count():
            return ""
        if now >= run_deadline:
            return f"the run deadline of {cfg.run.run_timeout_seconds:g}s ([run] run_timeout_seconds) was reached"
        wake = min(run_deadline, oldest[0] + account_limit) if oldest else run_deadline
        try:
            item = fan.results.get(timeout=max(0.0, wake - now))
        except queue.Empty:
            continue
        if item is _WAKE:
            continue
        acct, snap = cast(tuple[Account, AccountSnapshot], item)  # the queue holds these, and _WAKE
        if (earlier := snapshots.get(acct.id)) is not None:  # finished after its deadline: reported as a timeout
            log.info("account %s: late result discarded (already reported as %s)", acct.id,
                     earlier.error.code if earlier.error else "read")
            continue
        snapshots[acct.id] = snap
        _log_outcome(acct, snap)
        if progress:
            progress(snap)


def _finish_early(reason: str, listed: list[Account], fan: _FanOut, snapshots: dict[str, AccountSnapshot]) -> None:
    """Every account listed so far gets a snapshot: what finished meanwhile, else an error saying why."""
    # Accounts that finished while the main thread was busy elsewhere are results too.
    by_id = {a.id: a for a in listed}
    for acct_id, snap in fan.finished().items():
        if acct_id not in snapshots:
            snapshots[acct_id] = snap
            _log_outcome(by_id[acct_id], snap)
    log.error("%s: %d of %d accounts finished; the others are reported as errors and the run as incomplete",
              reason, len(snapshots), len(listed))
    started = fan.started()
    for a in listed:
        if a.id not in snapshots:
            what = "still being read" if a.id in started else "not read"
            # INFO: one ERROR line above says it for all of them.
            snapshots[a.id] = _gave_up(a.id, stop_error(reason, what), logging.INFO)


def stop_error(reason: str, what: str) -> AccountError:
    """The error of an account the run stopped before reading (interrupt or run deadline)."""
    code = "Interrupted" if reason.startswith("interrupted") else "RunDeadline"
    stage = "interrupted" if code == "Interrupted" else "timeout"
    return AccountError(stage, code, f"{what}: {reason}")


def _gave_up(account_id: str, error: AccountError, level: int = logging.WARNING) -> AccountSnapshot:
    account_log.log(level, "account %s: %s: %s", account_id, error.code, error.message)
    return AccountSnapshot(account_id, role=None, error=error)


def _log_outcome(acct: Account, snap: AccountSnapshot) -> None:
    if snap.error:
        account_log.warning("account %s (%s): error at %s: %s: %s", acct.id, acct.name, snap.error.stage,
                            snap.error.code, snap.error.message)
    elif snap.role is None:
        account_log.info("account %s (%s): Datadog role not found", acct.id, acct.name)
    else:
        account_log.info("account %s (%s): Datadog role %s read (%d calls)",
                         acct.id, acct.name, snap.role.arn, snap.api_calls)
