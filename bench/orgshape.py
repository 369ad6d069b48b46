"""The benchmark organization's shape, and the lower bound of a run over it.

Pure: no moto, no boto3. The simulated AWS builds exactly this shape; the bound is computed
from it, so the two cannot drift apart.

Lower bound of a run (time is round trips when AWS adds a fixed latency per call):
- organization phase: its critical path, the longest chain of calls that depend on one
  another (ListRoots -> ListOrganizationalUnitsForParent pages down the tree -> the last
  ListAccountsForParent page; ListPolicies page -> ListTargetsForPolicy pages), assuming
  every independent call runs at the same time;
- account phase: ceil(accounts / workers) rounds of `sequential_calls_per_account` calls that
  wait on one another (AssumeRole, then the 4 IAM reads of the role); the account's 6th call,
  ec2:DescribeRegions (its region opt-in status), runs beside the IAM reads and adds no round trip.

The policies' target listings go on while the accounts are read, so the bound is
max(tree walk + account phase, policy listings), not their sum. (The auditor starts reading a
unit's accounts as soon as the unit is listed, so its tree walk and first account round overlap:
the bound, which has them one after the other as the issue defines it, is conservative there.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

PAGE = 20  # AWS Organizations' maximum MaxResults for every List* call the auditor makes
# AssumeRole, GetRole, ListAttachedRolePolicies, ListRolePolicies, GetRolePolicy: one after the other.
SEQUENTIAL_CALLS_PER_ACCOUNT = 5
CALLS_PER_ACCOUNT = SEQUENTIAL_CALLS_PER_ACCOUNT + 1  # + ec2:DescribeRegions, concurrent with the IAM reads


def pages(n: int) -> int:
    """Calls needed to list n items (an empty list still costs one call)."""
    return max(1, math.ceil(n / PAGE))


@dataclass(frozen=True)
class Unit:
    key: str  # "root", "ou-3", "ou-3-2"
    parent: str  # "" for the root
    name: str
    accounts: int


@dataclass(frozen=True)
class Shape:
    """What the simulated organization holds (custom policies attach to OUs, one per OU at most)."""

    accounts: int  # member accounts (the management account comes on top)
    top_ous: int = 6
    child_ous: int = 5  # per top-level OU
    scps: int = 24  # custom SCPs, besides the AWS-managed FullAWSAccess
    rcps: int = 12  # custom RCPs, besides RCPFullAWSAccess

    def units(self) -> list[Unit]:
        """The root, then OUs breadth first; accounts dealt round robin over the OUs."""
        keys: list[tuple[str, str, str]] = [("root", "", "Root")]
        for t in range(self.top_ous):
            keys.append((f"ou-{t}", "root", f"Division{t}"))
        for t in range(self.top_ous):
            for c in range(self.child_ous):
                keys.append((f"ou-{t}-{c}", f"ou-{t}", f"Team{t}{c}"))
        ous = len(keys) - 1
        per = [self.accounts // ous + (1 if i < self.accounts % ous else 0) for i in range(ous)] if ous else []
        out = [Unit("root", "", "Root", 0 if ous else self.accounts)]
        out.extend(Unit(k, p, n, per[i]) for i, (k, p, n) in enumerate(keys[1:]))
        return out

    @property
    def ous(self) -> int:
        return self.top_ous * (1 + self.child_ous)

    def policy_targets(self) -> dict[str, list[int]]:
        """Targets per policy, in ListPolicies order, per policy type (FullAWSAccess first)."""
        # The AWS-managed full-access policies are attached to the root, every OU and every
        # account (management account included), as AWS does by default.
        everything = 1 + self.ous + self.accounts + 1
        return {
            "SERVICE_CONTROL_POLICY": [everything] + [1] * self.scps,
            "RESOURCE_CONTROL_POLICY": [everything] + [1] * self.rcps,
        }


def organization_critical_path(shape: Shape) -> int:
    """Round trips on the longest chain of dependent Organizations calls."""
    return max(tree_critical_path(shape), policy_critical_path(shape))


def tree_critical_path(shape: Shape) -> int:
    """Round trips to walk the OU tree and list every unit's accounts (the accounts wait on it)."""
    units = shape.units()
    children: dict[str, list[Unit]] = {}
    for u in units[1:]:
        children.setdefault(u.parent, []).append(u)
    discovered = {"root": 1}  # ListRoots
    longest = 1
    for u in units:  # breadth first: a parent comes before its children
        kids = children.get(u.key, [])
        for i, kid in enumerate(kids):
            discovered[kid.key] = discovered[u.key] + i // PAGE + 1
        longest = max(longest, discovered[u.key] + max(pages(u.accounts), pages(len(kids))))
    return longest


def policy_critical_path(shape: Shape) -> int:
    """Round trips to list the policies and their targets (in parallel with the account phase)."""
    longest = 0
    for targets in shape.policy_targets().values():
        for i, n in enumerate(targets):
            # ListPolicies up to the policy's page, then DescribePolicy alongside the target pages.
            longest = max(longest, i // PAGE + 1 + pages(n))
    return longest


def organization_calls(shape: Shape) -> int:
    """Organizations calls an efficient run needs: O(OUs + policies + accounts/20)."""
    units = shape.units()
    children: dict[str, int] = {}
    for u in units[1:]:
        children[u.parent] = children.get(u.parent, 0) + 1
    walk = sum(pages(u.accounts) + pages(children.get(u.key, 0)) for u in units)
    policies = sum(pages(len(t)) + len(t) + sum(pages(n) for n in t) for t in shape.policy_targets().values())
    return 2 + walk + policies  # + DescribeOrganization, ListRoots


@dataclass(frozen=True)
class Bound:
    tree_round_trips: int
    policy_round_trips: int
    account_rounds: int
    sequential_calls_per_account: int
    latency: float

    @property
    def organization_round_trips(self) -> int:
        return max(self.tree_round_trips, self.policy_round_trips)

    @property
    def critical_round_trips(self) -> int:
        accounts = self.account_rounds * self.sequential_calls_per_account
        return max(self.tree_round_trips + accounts, self.policy_round_trips)

    @property
    def seconds(self) -> float:
        return self.critical_round_trips * self.latency


def lower_bound(shape: Shape, *, audited: int, workers: int, latency: float,
                sequential_calls_per_account: int = SEQUENTIAL_CALLS_PER_ACCOUNT) -> Bound:
    return Bound(tree_critical_path(shape), policy_critical_path(shape), math.ceil(audited / workers),
                 sequential_calls_per_account, latency)


def throttle_bound(calls_by_bucket: dict[str, int], rates: dict[str, tuple[float, float]]) -> float:
    """Seconds the token buckets alone impose: the busiest bucket's calls beyond its burst, at its rate.

    `calls_by_bucket` maps "service.Operation" (or "service") to calls made; `rates` maps the same
    keys to (rate per second, burst).
    """
    worst = 0.0
    for key, calls in calls_by_bucket.items():
        if key in rates:
            rate, burst = rates[key]
            worst = max(worst, max(0.0, calls - burst) / rate)
    return worst
