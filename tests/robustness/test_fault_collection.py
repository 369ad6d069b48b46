"""Faults inside the fan-out: every account comes back exactly once, with the cause when it failed."""

from __future__ import annotations

import os
import signal
import threading
import time

from botocore.exceptions import ConnectionClosedError, EndpointConnectionError, ReadTimeoutError
from fault_org import Org, make_config
from faults import Request

from auditor.aws.gateway import AwsGateway
from auditor.model import AuditResult
from auditor.pipeline import run_audit


def audit(org: Org, **sections: dict) -> AuditResult:
    cfg = make_config(**sections)
    return run_audit(cfg, AwsGateway(cfg.run, org.session), env={})


def errors(result: AuditResult) -> dict[str, tuple[str, str]]:
    return {s.account_id: (s.error.stage, s.error.code) for s in result.snapshots if s.error}


def assert_each_account_once(result: AuditResult, org: Org) -> None:
    ids = [s.account_id for s in result.snapshots] + [a for a, _ in result.skipped]
    assert sorted(ids) == sorted(org.all_accounts)


def test_throttling_storm_on_every_api_is_retried_to_success(org: Org) -> None:
    org.faults.add("*", lambda r: r.error("Throttling", "Rate exceeded") if r.attempt <= 2 else None)
    org.faults.add("organizations.*", lambda r: r.error("TooManyRequestsException") if r.attempt <= 2 else None)
    result = audit(org)
    assert_each_account_once(result, org)
    assert errors(result) == {}
    assert all(s.role is not None for s in result.snapshots)
    assert result.run.complete
    # every operation that was sent at all was first refused twice
    assert set(org.faults.injected) == set(org.faults.sent)
    assert all(org.faults.injected[op] == 2 * n for op, n in org.faults.sent.items())


def test_throttling_past_max_attempts_makes_that_account_an_error_not_a_loss(org: Org) -> None:
    victim = org.members[1]
    org.faults.add("iam.GetRole", lambda r: r.error("ThrottlingException", "Rate exceeded") if r.account == victim
                   else None)
    result = audit(org, run={"max_attempts": 4})
    assert_each_account_once(result, org)
    assert errors(result) == {victim: ("read_role", "ThrottlingException")}
    assert org.faults.injected["iam.GetRole"] == 4  # [run] max_attempts counts attempts, not retries
    assert result.run.complete


def test_assume_role_denied_or_timing_out_in_some_accounts(org: Org) -> None:
    denied, slow = org.members[0], org.members[3]

    def assume(r: Request) -> None:
        if f"{denied}%3Arole" in r.body.decode():
            return r.error("AccessDenied", "not authorized to perform: sts:AssumeRole", 403)
        if f"{slow}%3Arole" in r.body.decode():
            raise ReadTimeoutError(endpoint_url=r.url)
        return None

    org.faults.add("sts.AssumeRole", assume)
    result = audit(org)
    assert_each_account_once(result, org)
    assert errors(result) == {denied: ("assume_role", "AccessDenied"), slow: ("assume_role", "ReadTimeoutError")}
    unassumable = {f.account_id for f in result.findings if f.check == "audit_role_unassumable"}
    assert unassumable == {denied, slow}


def test_iam_read_denied_inside_an_account_is_an_error_row_at_read_role(org: Org) -> None:
    victim = org.members[2]
    org.faults.add("iam.GetRole", lambda r: r.error("AccessDenied", "not authorized: iam:GetRole", 403)
                   if r.account == victim else None)
    result = audit(org)
    assert_each_account_once(result, org)
    assert errors(result) == {victim: ("read_role", "AccessDenied")}
    (finding,) = [f for f in result.findings if f.check == "account_read_error"]
    assert finding.account_id == victim and finding.status.value == "error"
    assert "AccessDenied" in finding.detail and "read_role" in finding.detail


def test_connection_resets_are_retried_then_become_error_rows(org: Org) -> None:
    dead = org.members[4]

    def flaky(r: Request) -> None:
        if r.account == dead:
            raise EndpointConnectionError(endpoint_url=r.url)
        if r.attempt == 1:
            raise ConnectionClosedError(endpoint_url=r.url)
        return None

    org.faults.add("iam.*", flaky)
    result = audit(org)
    assert_each_account_once(result, org)
    assert errors(result) == {dead: ("read_role", "EndpointConnectionError")}
    assert org.faults.injected["iam.GetRole"] >= len(org.all_accounts) - 1 + 3  # one reset each, 3 tries for dead
    assert result.run.complete


def test_an_account_listed_twice_is_read_once_and_does_not_stall_the_run(org: Org) -> None:
    from auditor.aws.organization import collect_inventory
    from auditor.pipeline import collect_accounts

    cfg = make_config(run={"run_timeout_seconds": 30})
    gateway = AwsGateway(cfg.run, org.session)
    accounts = collect_inventory(gateway).accounts
    started = time.monotonic()
    collected = collect_accounts(gateway, cfg, accounts + accounts[:2], "aws", org.management)
    assert time.monotonic() - started < 10
    assert sorted(collected.snapshots) == sorted(org.all_accounts)
    assert collected.incomplete_reason == "" and not any(s.error for s in collected.snapshots.values())
    assert org.faults.sent["iam.GetRole"] == len(org.all_accounts)


def test_organizations_listing_an_account_twice_still_gives_one_row_per_account(org: Org) -> None:
    def repeat_first(parsed: dict, **_: object) -> None:
        if parsed.get("Accounts"):
            parsed["Accounts"].append(dict(parsed["Accounts"][0]))

    org.session.events.register("after-call.organizations.ListAccountsForParent", repeat_first)
    result = audit(org)
    assert_each_account_once(result, org)
    assert sorted(a.id for a in result.inventory.accounts) == sorted(org.all_accounts)
    cells = [(v.account_id, v.region) for v in result.regions]
    assert len(cells) == len(set(cells)) == len(org.all_accounts) * 2


def test_accounts_finished_but_not_yet_collected_when_interrupted_are_kept(org: Org) -> None:
    from auditor.aws.organization import collect_inventory
    from auditor.pipeline import Interrupted, collect_accounts

    reads: list[str] = []
    release = threading.Event()

    def get_role(r: Request) -> None:
        if r.attempt == 1:
            reads.append(r.account)
            if len(reads) == 3:  # accounts 1 and 2 are finished and queued by now
                os.kill(os.getpid(), signal.SIGTERM)
                release.wait(10)
        return None

    def raise_interrupted(signum: int, _frame: object) -> None:
        raise Interrupted(signal.Signals(signum).name)

    org.faults.add("iam.GetRole", get_role)
    cfg = make_config(run={"workers": 1})
    gateway = AwsGateway(cfg.run, org.session)
    accounts = collect_inventory(gateway).accounts
    busy = threading.Event()  # the main thread is busy with account 1's progress when the signal lands
    previous = signal.signal(signal.SIGTERM, raise_interrupted)
    try:
        collected = collect_accounts(gateway, cfg, accounts, "aws", org.management, lambda _s: busy.wait(10))
    finally:
        signal.signal(signal.SIGTERM, previous)
        release.set()
    assert collected.incomplete_reason == "interrupted by SIGTERM"
    assert sorted(collected.snapshots) == sorted(org.all_accounts)
    assert {a for a, s in collected.snapshots.items() if not s.error} == set(reads[:2])
