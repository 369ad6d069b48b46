"""Properties over many inputs: Deny is monotone, a level without Allow denies, the parser never crashes."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.policy.chain import Attached, Chain, Level, evaluate_rcp_chain, evaluate_scp_chain
from auditor.policy.document import PolicyError, parse_policy

from .builders import FULL_ACCESS, assume, probe, role
from .strategies import ACTIONS, REGIONS, rcp_levels, rcp_statement, scp_levels, scp_statement

RANK = {"denied": 0, "indeterminate": 1, "allowed": 2}
SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def to_chain(kind: str, levels: list[list[dict[str, Any]]]) -> Chain:
    return Chain(kind, tuple(
        Level(f"t{n}", f"level {n}", tuple(
            Attached(f"p-{n}-{m}", "", parse_policy(json.dumps(d), policy_id=f"p-{n}-{m}"))
            for m, d in enumerate(level)))
        for n, level in enumerate(levels)))


requests = st.builds(
    lambda action, region, tags: probe(action, region, facts=role(tags=tags)),
    st.sampled_from(ACTIONS), st.sampled_from(REGIONS),
    st.lists(st.sampled_from((("team", "a"), ("env", "prod"))), max_size=2, unique_by=lambda t: t[0]),
)


@SETTINGS
@given(levels=scp_levels(), extra=scp_statement(effect="Deny"), where=st.integers(0, 9), req=requests)
def test_adding_a_deny_never_loosens_an_scp_decision(levels, extra, where, req) -> None:
    before = evaluate_scp_chain(to_chain("SCP", levels), req).outcome
    with_deny = [list(lv) for lv in levels]
    with_deny[where % len(levels)].append({"Version": "2012-10-17", "Statement": [extra]})
    after = evaluate_scp_chain(to_chain("SCP", with_deny), req).outcome
    assert RANK[after] <= RANK[before]
    if before == "denied":
        assert after == "denied"


@SETTINGS
@given(levels=rcp_levels(), extra=rcp_statement(), where=st.integers(0, 9), region=st.sampled_from(REGIONS))
def test_adding_a_deny_never_loosens_an_rcp_decision(levels, extra, where, region) -> None:
    extra = {**extra, "Effect": "Deny"}
    req = assume(region)
    before = evaluate_rcp_chain(to_chain("RCP", levels), req).outcome
    with_deny = [list(lv) for lv in levels]
    with_deny[where % len(levels)].append({"Version": "2012-10-17", "Statement": [extra]})
    assert RANK[evaluate_rcp_chain(to_chain("RCP", with_deny), req).outcome] <= RANK[before]


@SETTINGS
@given(
    denies=st.lists(st.lists(st.lists(scp_statement(effect="Deny"), min_size=1, max_size=2), max_size=2),
                    min_size=2, max_size=4),
    where=st.integers(0, 9),
    req=requests,
)
def test_removing_full_access_at_any_level_denies_everything_below(denies, where, req) -> None:
    levels = [[FULL_ACCESS, *({"Version": "2012-10-17", "Statement": s} for s in lv)] for lv in denies]
    level = where % len(levels)
    levels[level] = levels[level][1:]  # only Deny policies left at that level
    decision = evaluate_scp_chain(to_chain("SCP", levels), req)
    assert decision.outcome == "denied"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
ELEMENTS = ("Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal",
            "Condition")
PLAUSIBLE = ("Allow", "Deny", "*", "s3:*", ["ec2:*"], {"AWS": "*"}, {"StringEquals": {"k": "v"}},
             {"ForAnyValue:StringLike": {"k": [1, True]}}, {"DateLessThan": {"k": "x"}})
near_statements = st.dictionaries(st.sampled_from(ELEMENTS), json_values | st.sampled_from(PLAUSIBLE), max_size=6)
near_documents = st.fixed_dictionaries(
    {"Statement": st.one_of(near_statements, st.lists(near_statements, max_size=3), json_values)},
    optional={"Version": st.sampled_from(("2012-10-17", "2008-10-17", "x")), "Id": json_values},
)


@settings(max_examples=400, deadline=None)
@given(document=st.one_of(json_values, near_documents))
def test_parser_raises_only_policy_error_on_arbitrary_json(document: Any) -> None:
    try:
        parsed = parse_policy(json.dumps(document), policy_id="p-x", name="random")
    except PolicyError as exc:
        assert str(exc).startswith("policy p-x (random): ")
        return
    # Whatever parses must evaluate without error.
    assert all(s.effect in ("Allow", "Deny") for s in parsed.statements)
    evaluate_scp_chain(to_chain("SCP", [[document]]), probe("ec2:DescribeInstances", "eu-west-1"))


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=60))
def test_parser_raises_only_policy_error_on_arbitrary_text(text: str) -> None:
    try:
        parse_policy(text, policy_id="p-x")
    except PolicyError as exc:
        assert str(exc).startswith("policy p-x: ")
