"""Organizations inventory: the OU tree, accounts, SCPs and RCPs, read once per run.

Cost is O(OUs + policies + accounts/20) calls: one walk of the tree (children OUs and
accounts per parent) and, per policy, DescribePolicy + ListTargetsForPolicy. Never one
ListPoliciesForTarget or ListParents per account.

Time is the longest chain of calls that wait on one another, not their sum: every call whose
input is known runs at once in a small pool (a level of the tree, every policy), so the run
takes about as long as the longest paginated listing (typically ListTargetsForPolicy of
FullAWSAccess, attached to every account: accounts/20 pages). The result is assembled in
the order a sequential walk gives, so it does not depend on which call answered first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from functools import partial
from typing import Any

from auditor.aws.gateway import AwsGateway
from auditor.model import RCP, SCP, Account, Inventory, OrgPolicy, OrgUnit

log = logging.getLogger("auditor.aws")

# Concurrent Organizations calls. Organizations throttles at a few requests per second per
# operation; more threads than this would mostly wait in botocore's adaptive rate limiter.
ORGANIZATIONS_CONCURRENCY = 16


def _pages(client: Any, operation: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in client.get_paginator(operation).paginate(**kwargs):
        items.extend(page.get(key, []))
    return items


def partition_of(arn: str) -> str:
    return arn.split(":", 2)[1]


class _Calls:
    """Calls run in a pool; each result is handed to its continuation in the calling thread,
    which may submit more calls. The first error stops everything and is raised."""

    def __init__(self, workers: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="organizations")
        self._pending: dict[Future[Any], Callable[[Any], None]] = {}

    def submit(self, then: Callable[[Any], None], fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self._pending[self._pool.submit(fn, *args, **kwargs)] = then

    def run(self) -> None:
        try:
            while self._pending:
                done, _ = wait(self._pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    self._pending.pop(fut)(fut.result())
        finally:
            self._pool.shutdown(wait=not self._pending, cancel_futures=True)


def collect_inventory(gateway: AwsGateway) -> Inventory:
    org = gateway.client("organizations")
    calls = _Calls(ORGANIZATIONS_CONCURRENCY)
    got: dict[str, Any] = {}
    policies: dict[str, list[OrgPolicy]] = {}
    # Policies first: their target listings are the longest chains of the phase.
    for ptype in (SCP, RCP):
        calls.submit(partial(_policies_listed, calls, org, ptype, out=policies), _list_policies, org, ptype)
    calls.submit(lambda d: got.__setitem__("org", d["Organization"]), org.describe_organization)
    calls.submit(lambda roots: _walk_tree(calls, org, roots, got), _pages, org, "list_roots", "Roots")
    calls.run()
    desc, roots, units, accounts = got["org"], got["roots"], got["units"], got["accounts"]
    enabled = tuple(
        t["Type"] for r in roots for t in r.get("PolicyTypes", []) if t.get("Status") == "ENABLED"
    )
    ordered = [p for ptype in (SCP, RCP) for p in policies.get(ptype, [])]
    log.info(
        "organization %s: %d OUs, %d accounts, %d policies",
        desc["Id"], len(units) - len(roots), len(accounts), len(ordered),
    )
    return Inventory(
        organization_id=desc["Id"],
        management_account_id=desc.get("MasterAccountId", ""),
        partition=partition_of(desc["Arn"]),
        enabled_policy_types=tuple(sorted(set(enabled))),
        units=tuple(units),
        accounts=tuple(accounts),
        policies=tuple(ordered),
    )


def _walk_tree(calls: _Calls, org: Any, roots: list[dict[str, Any]], got: dict[str, Any]) -> None:
    """List every unit's accounts and child OUs, a unit as soon as its parent is listed.

    Fills got["roots"], got["units"] and got["accounts"] (breadth-first order) once all is read.
    """
    children: dict[str, list[OrgUnit]] = {}
    chains: dict[str, tuple[str, ...]] = {}
    members: dict[str, list[Account]] = {}
    waiting = [0]  # listings not yet answered

    def visit(unit: OrgUnit, chain: tuple[str, ...]) -> None:
        chains[unit.id] = chain
        waiting[0] += 2
        calls.submit(lambda accts: on_accounts(unit, accts), _pages, org, "list_accounts_for_parent", "Accounts",
                     ParentId=unit.id)
        calls.submit(lambda ous: on_children(unit, ous), _pages, org, "list_organizational_units_for_parent",
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

    for root in top:
        visit(root, (root.id,))
    if not top:
        got.update(roots=roots, units=[], accounts=[])


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
        calls.submit(partial(got_targets, pid), _pages, org, "list_targets_for_policy", "Targets", PolicyId=pid)
        calls.submit(partial(got_content, pid), org.describe_policy, PolicyId=pid)
