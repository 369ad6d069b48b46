"""Accounts are read as soon as Organizations lists them, not after the whole tree is walked."""

from __future__ import annotations

import io
import os
import signal
import threading
from collections.abc import Callable

import pytest
from fault_org import Org, make_config
from faults import Request
from tqdm import tqdm

from auditor.aws.gateway import AwsGateway
from auditor.fanout import AccountStream
from auditor.model import Account, AccountSnapshot
from auditor.pipeline import run_audit, select_scope
from auditor.stop import StopGate


def hold_the_ou_listing(org: Org, until: threading.Event, seconds: float) -> list[bool]:
    """Hold ListAccountsForParent of the members' OU until `until` is set (or `seconds` pass); the
    list returned says, per hold, whether `until` released it."""
    released: list[bool] = []

    def held(r: Request) -> None:
        if org.ou in r.body.decode() and r.attempt == 1:
            released.append(until.wait(seconds))
        return None

    org.faults.add("organizations.ListAccountsForParent", held)
    return released


def on_first_read_of(org: Org, account: str, action: Callable[[], None]) -> None:
    def get_role(r: Request) -> None:
        if r.account == account and r.attempt == 1:
            action()
        return None

    org.faults.add("iam.GetRole", get_role)


def test_an_account_is_read_while_the_rest_of_the_tree_is_still_being_listed(org: Org) -> None:
    # The management account sits at the root; the members' OU is listed after it. Its listing is held
    # until the management account's role has been read: a fan-out that waited for the whole tree
    # would wait the full 20 s.
    root_account_read = threading.Event()
    released = hold_the_ou_listing(org, root_account_read, seconds=20)
    on_first_read_of(org, org.management, root_account_read.set)
    cfg = make_config()
    result = run_audit(cfg, AwsGateway(cfg.run, org.session), env={})
    assert released == [True]
    assert result.run.complete
    assert sorted(s.account_id for s in result.snapshots) == sorted(org.all_accounts)
    assert not any(s.error for s in result.snapshots)


def test_interrupted_before_the_tree_is_walked_the_accounts_not_yet_listed_are_errors_not_losses(org: Org) -> None:
    def interrupt() -> None:
        os.kill(os.getpid(), signal.SIGTERM)  # delivered to the main thread, as from cron

    never = threading.Event()
    # Still held when the signal lands: the management account is read within this time even on a
    # loaded machine (1 s was not always enough under a parallel suite); the run then waits it out.
    hold_the_ou_listing(org, never, seconds=3.0)
    on_first_read_of(org, org.management, interrupt)

    # The gate `auditor run` installs: the request is held wherever it lands in the main thread (it
    # may land while a worker thread is being started) and taken by the fan-out between results.
    with StopGate().installed() as stops:
        cfg = make_config()
        result = run_audit(cfg, AwsGateway(cfg.run, org.session), env={}, stops=stops)
    assert not result.run.complete and result.run.incomplete_reason == "interrupted by SIGTERM"
    assert sorted(s.account_id for s in result.snapshots) == sorted(org.all_accounts)
    errors = {s.account_id: s.error for s in result.snapshots if s.error}
    assert set(errors) >= set(org.members)
    for member in org.members:
        assert errors[member].code == "Interrupted" and "not listed yet" in errors[member].message



def test_a_second_stop_request_before_the_tree_is_walked_still_waits_for_the_tree(org: Org) -> None:
    # The first request stops the fan-out; the second lands while the members' OU is still being
    # listed. Without the tree no account can be reported: the second one must not end the run there.
    def interrupt_twice() -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM)).start()

    hold_the_ou_listing(org, threading.Event(), seconds=3.0)
    on_first_read_of(org, org.management, interrupt_twice)
    with StopGate().installed() as stops:
        cfg = make_config()
        result = run_audit(cfg, AwsGateway(cfg.run, org.session), env={}, stops=stops)
    assert not result.run.complete and result.run.incomplete_reason.startswith("interrupted by SIGTERM")
    assert sorted(s.account_id for s in result.snapshots) == sorted(org.all_accounts)

def test_the_streamed_fan_out_reads_exactly_the_accounts_the_scope_selects(org: Org) -> None:
    excluded = org.members[1]
    cfg = make_config(organization={"exclude_accounts": [excluded], "audit_management_account": False})
    result = run_audit(cfg, AwsGateway(cfg.run, org.session), env={})
    scope = select_scope(result.inventory, cfg)
    assert [s.account_id for s in result.snapshots] == [a.id for a in scope.audited]
    assert dict(result.skipped) == dict(scope.skipped)
    assert {excluded, org.management} == {a for a, _ in result.skipped}
    assert org.faults.sent["iam.GetRole"] == len(org.members) - 1  # the skipped ones are never read


class RecordingBar:
    """A ProgressBar that notes, at each tick, the total it had."""

    def __init__(self) -> None:
        self.total: int | None = None
        self.ticks: list[int | None] = []
        self.refreshed = 0
        self.ticked = threading.Event()

    def update(self, n: int = 1) -> None:
        self.ticks += [self.total] * n
        self.ticked.set()

    def refresh(self) -> None:
        self.refreshed += 1


def test_the_progress_bar_counts_every_account_once_and_learns_the_total_once_the_tree_is_walked(org: Org) -> None:
    bar = RecordingBar()
    cfg = make_config()
    run_audit(cfg, AwsGateway(cfg.run, org.session), env={}, progress=bar)
    assert len(bar.ticks) == len(org.all_accounts)
    assert bar.total == len(org.all_accounts) and bar.refreshed == 1
    known = [t for t in bar.ticks if t is not None]
    assert known == [len(org.all_accounts)] * len(known)  # None (counting) until known, then the total


def test_the_progress_bar_counts_from_the_first_account_while_the_tree_is_still_walked(org: Org) -> None:
    bar = RecordingBar()
    released = hold_the_ou_listing(org, bar.ticked, seconds=20)  # the members' OU: listed after the first tick
    cfg = make_config()
    run_audit(cfg, AwsGateway(cfg.run, org.session), env={}, progress=bar)
    assert released == [True]
    assert bar.ticks[0] is None and bar.total == len(org.all_accounts) == len(bar.ticks)


def test_tqdm_shows_the_count_then_the_total(org: Org) -> None:
    out = io.StringIO()
    cfg = make_config()
    with tqdm(total=None, unit="account", file=out, mininterval=0, leave=True) as bar:
        run_audit(cfg, AwsGateway(cfg.run, org.session), env={}, progress=bar)
    n = len(org.all_accounts)
    assert f"{n}/{n}" in out.getvalue()


def _account(n: int) -> Account:
    return Account(f"{n:012d}", f"a{n}", "", "ACTIVE", "r-1", "Root", ("r-1", f"{n:012d}"))


def test_a_stream_hands_out_each_admitted_account_once_then_ends() -> None:
    stream = AccountStream(admit=lambda a, management: a.id != management)
    stream.accounts_listed([_account(1), _account(2), _account(1)], management_account_id=_account(2).id)
    stream.accounts_listed([_account(3), _account(1)], management_account_id=_account(2).id)
    taken = [stream.take(), stream.take()]
    stream.tree_walked()
    assert [a.id for a in taken if a] == [_account(1).id, _account(3).id]
    assert stream.take() is None and stream.count() == 2


def test_a_worker_waits_for_the_walk_and_is_released_when_it_fails() -> None:
    stream = AccountStream()
    got: list[object] = []
    worker = threading.Thread(target=lambda: got.append(stream.take()))
    worker.start()
    worker.join(0.2)
    assert worker.is_alive()  # nothing listed yet: waiting, not finished
    stream.tree_failed(RuntimeError("Organizations is down"))
    worker.join(5)
    assert got == [None] and isinstance(stream.error, RuntimeError)


@pytest.mark.parametrize("listed_first", [True, False])
def test_accounts_listed_before_the_organization_is_described_wait_for_the_management_id(
    org: Org, listed_first: bool
) -> None:
    described = threading.Event()

    def hold_description(_r: Request) -> None:
        if listed_first:
            described.wait(2)
        return None

    org.faults.add("organizations.DescribeOrganization", hold_description)
    cfg = make_config(organization={"audit_management_account": False})
    result = run_audit(cfg, AwsGateway(cfg.run, org.session), env={})
    assert org.management in {a for a, _ in result.skipped}
    assert org.management not in {s.account_id for s in result.snapshots}
    assert "iam.GetRole" in org.faults.sent and org.faults.sent["iam.GetRole"] == len(org.members)


class _NoAws:
    def client(self, *_: object, **__: object) -> None:
        return None

    def account_client(self, *_: object) -> None:
        return None


def test_an_account_listed_while_the_main_thread_waits_for_the_walk_still_gets_its_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import time

    import auditor.fanout as fanout
    from auditor.config import config_from_dict

    release = threading.Event()

    def stuck_read(*_: object, **__: object) -> AccountSnapshot:
        release.wait(30)
        return AccountSnapshot(_account(1).id, role=None)

    monkeypatch.setattr(fanout, "read_account", stuck_read)
    cfg = config_from_dict({"run": {"workers": 1, "account_timeout_seconds": 0.5, "run_timeout_seconds": 60}})
    stream = AccountStream()
    # Listed once the main thread is already asleep, with no account running yet.
    threading.Timer(0.3, lambda: (stream.accounts_listed([_account(1)], ""), stream.tree_walked())).start()
    started = time.monotonic()
    try:
        collected = fanout.collect_accounts(_NoAws(), cfg, stream, "aws", "none")  # type: ignore[arg-type]
    finally:
        release.set()
    assert time.monotonic() - started < 5  # not the 30 s the read would take, nor the run deadline
    (snap,) = collected.snapshots.values()
    assert snap.error is not None and snap.error.code == "AccountTimeout"
