"""Organizations inventory: the OU tree, accounts, SCPs and RCPs, read once per run.

Cost is O(OUs + policies + accounts/20) calls: one walk of the tree (children OUs and
accounts per parent) and, per policy, DescribePolicy + ListTargetsForPolicy. Never one
ListPoliciesForTarget or ListParents per account.

Time is the longest chain of calls that wait on one another, not their sum: every call whose
input is known runs at once in a small pool (a level of the tree, every policy), so the run
takes about as long as the longest paginated listing (typically ListTargetsForPolicy of
FullAWSAccess, attached to every account: accounts/20 pages). The result is assembled in
the order a sequential walk gives, so it does not depend on which call answered first.
`InventoryReader` hands each unit's accounts to a listener as soon as they are listed, so the
account fan-out starts during the walk and never waits for the policies' longest chains.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import replace
from functools import partial
from typing import Any, Protocol

from auditor.aws.gateway import AwsGateway
from auditor.model import RCP, SCP, Account, Inventory, OrgPolicy, OrgUnit

log = logging.getLogger("auditor.aws")

# Concurrent Organizations calls per lane. Organizations throttles at a few requests per second per
# operation; more threads than this would mostly wait in botocore's adaptive rate limiter. The tree
# gets more: a level of OUs is listed at once, and the account fan-out waits for the whole tree
# (at 1,000 accounts under 36 OUs, 16 threads take 0.6 s to walk it, 32 take 0.47 s, 64 no less).
TREE, POLICIES = "tree", "policies"
ORGANIZATIONS_CONCURRENCY = {TREE: 32, POLICIES: 16}


def _pages(client: Any, operation: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in client.get_paginator(operation).paginate(**kwargs):
        items.extend(page.get(key, []))
    return items


def partition_of(arn: str) -> str:
    return arn.split(":", 2)[1]


class _Calls:
    """Calls run in pools; each result is handed to its continuation in the calling thread,
    which may submit more calls. The first error stops everything and is raised.

    One pool per lane: the tree walk (which the account fan-out waits for) never queues behind
    the policies' listings (which need not hold anyone up).
    """

    def __init__(self, workers: Mapping[str, int]) -> None:
        self._pools = {lane: ThreadPoolExecutor(max_workers=n, thread_name_prefix=f"organizations-{lane}")
                       for lane, n in workers.items()}
        self._pending: dict[Future[Any], Callable[[Any], None]] = {}

    def submit(self, lane: str, then: Callable[[Any], None], fn: Callable[..., Any], *args: Any,
               **kwargs: Any) -> None:
        self._pending[self._pools[lane].submit(fn, *args, **kwargs)] = then

    def run(self) -> None:
        try:
            while self._pending:
                done, _ = wait(self._pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    self._pending.pop(fut)(fut.result())
        finally:
            for pool in self._pools.values():
                pool.shutdown(wait=not self._pending, cancel_futures=True)


def collect_inventory(gateway: AwsGateway) -> Inventory:
    return InventoryReader(gateway).inventory()


class TreeListener(Protocol):
    """Told about the tree while it is walked (called from the reader's thread)."""

    def accounts_listed(self, accounts: Sequence[Account], management_account_id: str) -> None: ...

    def tree_walked(self) -> None: ...

    def tree_failed(self, error: BaseException) -> None: ...


class InventoryReader:
    """Reads the organization in the background, in steps one can wait for or listen to.

    A `listener` hears of each unit's accounts as soon as they are listed (after the organization's
    description, which names the management account), then that the tree is walked, or that it
    could not be: a caller can start reading accounts during the walk. `structure()`: the
    organization, its OUs and accounts (no policies yet), ready once the tree is walked. The
    policies' target listings are the phase's longest chains (FullAWSAccess is attached to every
    account: accounts/20 pages one after another), so nothing waits for them but `inventory()`:
    everything. Both raise the error that stopped the reading, if any.
    """

    def __init__(self, gateway: AwsGateway, listener: TreeListener | None = None) -> None:
        self._org = gateway.client("organizations")
        self._listener = listener
        self._held: list[Account] = []  # listed before the description: held until the management id is known
        self._got: dict[str, Any] = {}
        self._policies: dict[str, list[OrgPolicy]] = {}
        self._structure: Inventory | None = None
        self._inventory: Inventory | None = None
        self._error: BaseException | None = None
        self._structure_ready = threading.Event()
        self._done = threading.Event()
        threading.Thread(target=self._read, name="organizations", daemon=True).start()

    def structure(self) -> Inventory:
        self._wait(self._structure_ready)
        assert self._structure is not None
        return self._structure

    def structure_if_walked(self) -> Inventory | None:
        """The structure if the tree is walked by now, without waiting."""
        return self._structure if self._structure_ready.is_set() else None

    def finished(self, timeout: float) -> bool:
        """Whether everything is read (or the reading failed), waiting up to `timeout` seconds."""
        return self._done.wait(timeout)

    def inventory(self) -> Inventory:
        self._wait(self._done)
        assert self._inventory is not None
        return self._inventory

    def _wait(self, event: threading.Event) -> None:
        while not event.wait(0.5):  # in slices: signals (SIGTERM, Ctrl-C) reach the main thread
            pass
        if self._error is not None and (event is self._done or self._structure is None):
            raise self._error

    def _read(self) -> None:
        org, got = self._org, self._got
        calls = _Calls(ORGANIZATIONS_CONCURRENCY)
        try:
            # The structure first (what the account fan-out waits for), then the policies, whose
            # target listings are the longest chains but need not hold anyone up.
            calls.submit(TREE, self._described, org.describe_organization)
            walk = partial(_walk_tree, calls, org, got=got, then=self._structure_read, listed=self._accounts_listed)
            calls.submit(TREE, walk, _pages, org, "list_roots", "Roots")
            for ptype in (SCP, RCP):
                calls.submit(POLICIES, partial(_policies_listed, calls, org, ptype, out=self._policies),
                             _list_policies, org, ptype)
            calls.run()
            assert self._structure is not None
            policies = tuple(p for ptype in (SCP, RCP) for p in self._policies.get(ptype, []))
            self._inventory = replace(self._structure, policies=policies)
            log.info("organization %s: %d OUs, %d accounts, %d policies", self._structure.organization_id,
                     len(got["units"]) - len(got["roots"]), len(got["accounts"]), len(policies))
        except BaseException as exc:  # handed to the waiting thread
            self._error = exc
            if self._listener is not None and self._structure is None:
                self._listener.tree_failed(exc)
        finally:
            self._structure_ready.set()
            self._done.set()

    def _described(self, described: dict[str, Any]) -> None:
        self._got["org"] = described["Organization"]
        held, self._held = self._held, []
        self._accounts_listed(held)
        self._structure_read()

    def _accounts_listed(self, accounts: list[Account]) -> None:
        if self._listener is None or not accounts:
            return
        if "org" not in self._got:
            self._held.extend(accounts)
            return
        self._listener.accounts_listed(accounts, self._got["org"].get("MasterAccountId", ""))

    def _structure_read(self) -> None:
        """Called when the description or the tree arrives: the structure is ready once both are in."""
        got = self._got
        if "org" not in got or "units" not in got:
            return
        desc, roots = got["org"], got["roots"]
        enabled = tuple(t["Type"] for r in roots for t in r.get("PolicyTypes", []) if t.get("Status") == "ENABLED")
        self._structure = Inventory(
            organization_id=desc["Id"],
            management_account_id=desc.get("MasterAccountId", ""),
            partition=partition_of(desc["Arn"]),
            enabled_policy_types=tuple(sorted(set(enabled))),
            units=tuple(got["units"]),
            accounts=tuple(got["accounts"]),
            policies=(),
        )
        self._structure_ready.set()
        if self._listener is not None:
            self._listener.tree_walked()


def _walk_tree(calls: _Calls, org: Any, roots: list[dict[str, Any]], *, got: dict[str, Any],
               then: Callable[[], None], listed: Callable[[list[Account]], None]) -> None:
    """List every unit's accounts and child OUs, a unit as soon as its parent is listed.

    Each unit's accounts go to `listed` as they arrive. Fills got["roots"], got["units"] and
    got["accounts"] (breadth-first order) once all is read, then calls `then`.
    """
    children: dict[str, list[OrgUnit]] = {}
    chains: dict[str, tuple[str, ...]] = {}
    members: dict[str, list[Account]] = {}
    waiting = [0]  # listings not yet answered

    def visit(unit: OrgUnit, chain: tuple[str, ...]) -> None:
        chains[unit.id] = chain
        waiting[0] += 2
        calls.submit(TREE, lambda accts: on_accounts(unit, accts), _pages, org, "list_accounts_for_parent",
                     "Accounts", ParentId=unit.id)
        calls.submit(TREE, lambda ous: on_children(unit, ous), _pages, org, "list_organizational_units_for_parent",
                     "OrganizationalUnits", ParentId=unit.id)

    def on_accounts(unit: OrgUnit, found: list[dict[str, Any]]) -> None:
        members[unit.id] = [
            Account(
                id=a["Id"],
                name=a.get("Name", ""),
                email=a.get("Email", ""),
                # `State` replaces the deprecated `Status` (it also tells CLOSED apart).
                status=a.get("State") or a.get("Status", "ACTIVE"),
                parent_id=unit.id,
                ou_path=unit.path,
                chain=chains[unit.id] + (a["Id"],),
            )
            for a in found
        ]
        listed(members[unit.id])
        done()

    def on_children(unit: OrgUnit, found: list[dict[str, Any]]) -> None:
        kids = [OrgUnit(id=ou["Id"], name=ou["Name"], parent_id=unit.id, path=f"{unit.path}/{ou['Name']}")
                for ou in found]
        children[unit.id] = kids
        for kid in kids:
            visit(kid, chains[unit.id] + (kid.id,))
        done()

    top = [OrgUnit(id=r["Id"], name=r.get("Name", "Root"), parent_id="", path=r.get("Name", "Root")) for r in roots]

    def done() -> None:
        waiting[0] -= 1
        if waiting[0]:
            return
        units: list[OrgUnit] = []
        queue = list(top)
        while queue:  # breadth first, as a sequential walk would list them
            units.extend(queue)
            queue = [kid for unit in queue for kid in children[unit.id]]
        got.update(roots=roots, units=units, accounts=[a for u in units for a in members[u.id]])
        then()

    for root in top:
        visit(root, (root.id,))
    if not top:
        got.update(roots=roots, units=[], accounts=[])
        then()


def _list_policies(org: Any, ptype: str) -> list[dict[str, Any]] | None:
    """The policies of a type, or None when the type is not enabled in the organization."""
    try:
        return _pages(org, "list_policies", "Policies", Filter=ptype)
    except org.exceptions.PolicyTypeNotEnabledException:
        return None


def _policies_listed(calls: _Calls, org: Any, ptype: str, summaries: list[dict[str, Any]] | None, *,
                     out: dict[str, list[OrgPolicy]]) -> None:
    """Read every policy's targets and content at once; out[ptype] is set when all are in."""
    if not summaries:
        out[ptype] = []
        return
    contents: dict[str, str] = {}
    targets: dict[str, list[dict[str, Any]]] = {}

    def assemble() -> None:
        if len(contents) < len(summaries) or len(targets) < len(summaries):
            return
        out[ptype] = [
            OrgPolicy(
                id=s["Id"],
                name=s.get("Name", ""),
                type=ptype,
                aws_managed=bool(s.get("AwsManaged", False)),
                description=s.get("Description", ""),
                content=contents[s["Id"]],
                targets=tuple(t["TargetId"] for t in targets[s["Id"]]),
            )
            for s in summaries
        ]

    def got_targets(pid: str, found: list[dict[str, Any]]) -> None:
        targets[pid] = found
        assemble()

    def got_content(pid: str, described: dict[str, Any]) -> None:
        contents[pid] = described["Policy"]["Content"]
        assemble()

    for s in summaries:
        pid = s["Id"]
        calls.submit(POLICIES, partial(got_targets, pid), _pages, org, "list_targets_for_policy", "Targets",
                     PolicyId=pid)
        calls.submit(POLICIES, partial(got_content, pid), org.describe_policy, PolicyId=pid)
