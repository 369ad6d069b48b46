"""The benchmark's organization shape and the lower bound computed from it."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from bench.orgshape import PAGE, Shape, lower_bound, organization_calls, organization_critical_path, pages


@given(st.integers(min_value=0, max_value=20000), st.integers(min_value=0, max_value=8),
       st.integers(min_value=0, max_value=8))
def test_every_account_lands_in_exactly_one_unit(accounts, tops, kids):
    shape = Shape(accounts, top_ous=tops, child_ous=kids)
    units = shape.units()
    assert sum(u.accounts for u in units) == accounts
    assert len(units) == 1 + shape.ous
    assert len({u.key for u in units}) == len(units)


def test_critical_path_is_the_full_access_policy_target_pages_when_accounts_dominate():
    shape = Shape(10000)
    everything = 1 + shape.ous + 10000 + 1  # root, OUs, members, management account
    assert organization_critical_path(shape) == 1 + math.ceil(everything / PAGE)


def test_critical_path_follows_the_tree_when_policies_are_few():
    shape = Shape(0, top_ous=1, child_ous=1, scps=0, rcps=0)
    # ListRoots; the root's child OUs; that OU's child OUs; the grandchild's own listings.
    assert organization_critical_path(shape) == 4


def test_organizations_calls_grow_with_accounts_over_twenty_not_accounts():
    small, large = organization_calls(Shape(1000)), organization_calls(Shape(2000))
    # 1000 more accounts: their listing pages (<= one more page per OU) and two full-access
    # policies' target pages, never one call per account.
    assert large - small <= 2 * math.ceil(1000 / PAGE) + Shape(1000).ous + 1
    assert large - small < 1000 / 5


def test_bound_counts_rounds_of_workers_times_calls_per_account():
    b = lower_bound(Shape(1000), audited=1001, workers=32, latency=0.05)
    assert b.account_rounds == 32
    # Accounts wait for the tree walk; the policy listings overlap them.
    # 5 sequential calls per account: the 6th (DescribeRegions) runs beside the IAM reads.
    assert b.sequential_calls_per_account == 5
    assert b.seconds == max(b.tree_round_trips + 32 * 5, b.policy_round_trips) * 0.05
    assert b.tree_round_trips <= b.organization_round_trips


def test_bound_is_the_policy_listing_when_it_is_the_longer_chain():
    b = lower_bound(Shape(10000), audited=10001, workers=10000, latency=0.05)
    assert b.policy_round_trips > b.tree_round_trips + 5
    assert b.seconds == b.policy_round_trips * 0.05


def test_pages_never_below_one():
    assert [pages(n) for n in (0, 1, 20, 21, 40, 41)] == [1, 1, 1, 2, 2, 3]
