"""Organizations inventory: the OU tree, accounts, SCPs and RCPs, read once per run.

Cost is O(OUs + policies + accounts/20) calls: one walk of the tree (children OUs and
accounts per parent) and, per policy, DescribePolicy + ListTargetsForPolicy. Never one
ListPoliciesForTarget or ListParents per account.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

from auditor.aws.gateway import AwsGateway
from auditor.model import RCP, SCP, Account, Inventory, OrgPolicy, OrgUnit

log = logging.getLogger("auditor.aws")


def _pages(client: Any, operation: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in client.get_paginator(operation).paginate(**kwargs):
        items.extend(page.get(key, []))
    return items


def partition_of(arn: str) -> str:
    return arn.split(":", 2)[1]


def collect_inventory(gateway: AwsGateway) -> Inventory:
    org = gateway.client("organizations")
    desc = org.describe_organization()["Organization"]
    roots = _pages(org, "list_roots", "Roots")
    enabled = tuple(
        t["Type"] for r in roots for t in r.get("PolicyTypes", []) if t.get("Status") == "ENABLED"
    )
    units, accounts = _walk_tree(org, roots)
    policies: list[OrgPolicy] = []
    for ptype in (SCP, RCP):
        policies.extend(_collect_policies(org, ptype))
    log.info(
        "organization %s: %d OUs, %d accounts, %d policies",
        desc["Id"], len(units) - len(roots), len(accounts), len(policies),
    )
    return Inventory(
        organization_id=desc["Id"],
        management_account_id=desc.get("MasterAccountId", ""),
        partition=partition_of(desc["Arn"]),
        enabled_policy_types=tuple(sorted(set(enabled))),
        units=tuple(units),
        accounts=tuple(accounts),
        policies=tuple(policies),
    )


def _walk_tree(org: Any, roots: list[dict[str, Any]]) -> tuple[list[OrgUnit], list[Account]]:
    units: list[OrgUnit] = []
    accounts: list[Account] = []
    # (unit, chain of target ids from the root down to this unit)
    queue: deque[tuple[OrgUnit, tuple[str, ...]]] = deque()
    for r in roots:
        root = OrgUnit(id=r["Id"], name=r.get("Name", "Root"), parent_id="", path=r.get("Name", "Root"))
        units.append(root)
        queue.append((root, (root.id,)))
    while queue:
        unit, chain = queue.popleft()
        for a in _pages(org, "list_accounts_for_parent", "Accounts", ParentId=unit.id):
            accounts.append(
                Account(
                    id=a["Id"],
                    name=a.get("Name", ""),
                    email=a.get("Email", ""),
                    # `State` replaces the deprecated `Status` (it also tells CLOSED apart).
                    status=a.get("State") or a.get("Status", "ACTIVE"),
                    parent_id=unit.id,
                    ou_path=unit.path,
                    chain=chain + (a["Id"],),
                )
            )
        for ou in _pages(org, "list_organizational_units_for_parent", "OrganizationalUnits", ParentId=unit.id):
            child = OrgUnit(id=ou["Id"], name=ou["Name"], parent_id=unit.id, path=f"{unit.path}/{ou['Name']}")
            units.append(child)
            queue.append((child, chain + (child.id,)))
    return units, accounts


def _collect_policies(org: Any, ptype: str) -> list[OrgPolicy]:
    out: list[OrgPolicy] = []
    try:
        summaries = _pages(org, "list_policies", "Policies", Filter=ptype)
    except org.exceptions.PolicyTypeNotEnabledException:
        return out
    for summary in summaries:
        pid = summary["Id"]
        content = org.describe_policy(PolicyId=pid)["Policy"]["Content"]
        targets = _pages(org, "list_targets_for_policy", "Targets", PolicyId=pid)
        out.append(
            OrgPolicy(
                id=pid,
                name=summary.get("Name", ""),
                type=ptype,
                aws_managed=bool(summary.get("AwsManaged", False)),
                description=summary.get("Description", ""),
                content=content,
                targets=tuple(t["TargetId"] for t in targets),
            )
        )
    return out
