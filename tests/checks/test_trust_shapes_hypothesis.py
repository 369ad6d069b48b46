"""Property tests: any JSON shape AWS accepts for the same trust policy gives the same findings."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.model import Status
from tests.policy.strategies import role_policy_json

from .builders import AP1, EXTERNAL_ID, OTHER_EXTERNAL_ID, US, expected, role, run, snapshot

PRINCIPALS = [
    ("AWS", US),
    ("AWS", AP1),
    ("AWS", "111122223333"),
    ("AWS", "*"),
    ("Service", "ec2.amazonaws.com"),
    ("AWS", f"arn:aws:iam::{US}:role/DatadogAWSIntegrationRole"),
]
ACTIONS = ["sts:AssumeRole", "sts:AssumeRoleWithWebIdentity", "sts:TagSession", "sts:*"]
EXTERNAL_ID_CONDITIONS = [
    None,
    ("StringEquals", [EXTERNAL_ID]),
    ("StringEquals", [OTHER_EXTERNAL_ID]),
    ("StringEquals", [EXTERNAL_ID, OTHER_EXTERNAL_ID]),
    ("StringLike", ["4f1c*"]),
    ("StringEqualsIfExists", [EXTERNAL_ID]),
]

_statement_model = st.fixed_dictionaries(
    {
        "effect": st.sampled_from(["Allow", "Allow", "Allow", "Deny"]),
        "principals": st.lists(st.sampled_from(PRINCIPALS), min_size=1, max_size=3, unique=True),
        "actions": st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=2, unique=True),
        "external_id": st.sampled_from(EXTERNAL_ID_CONDITIONS),
        "source_ip": st.booleans(),
    }
)
_policy_model = st.lists(_statement_model, min_size=1, max_size=3)


def _maybe_scalar(values: list[str], draw: Any) -> str | list[str]:
    return values[0] if len(values) == 1 and draw(st.booleans()) else list(values)


def _shuffled(d: dict[str, Any], draw: Any) -> dict[str, Any]:
    keys = draw(st.permutations(list(d)))
    return {k: d[k] for k in keys}


@st.composite
def _render(draw: Any, model: list[dict[str, Any]]) -> str:
    """One of the many JSON texts AWS accepts for `model`."""
    statements = []
    for m in model:
        by_type: dict[str, list[str]] = {}
        for ptype, value in m["principals"]:
            if ptype == "AWS" and value.isdigit() and draw(st.booleans()):
                value = f"arn:aws:iam::{value}:root"
            by_type.setdefault(ptype, []).append(value)
        principal: Any
        if by_type == {"AWS": ["*"]} and draw(st.booleans()):
            principal = "*"
        else:
            principal = _shuffled({t: _maybe_scalar(v, draw) for t, v in by_type.items()}, draw)
        stmt: dict[str, Any] = {
            "Effect": m["effect"],
            "Principal": principal,
            "Action": _maybe_scalar(m["actions"], draw),
        }
        condition: dict[str, Any] = {}
        if m["external_id"] is not None:
            operator, values = m["external_id"]
            condition[operator] = {"sts:ExternalId": _maybe_scalar(values, draw)}
        if m["source_ip"]:
            condition["IpAddress"] = {"aws:SourceIp": _maybe_scalar(["10.0.0.0/8"], draw)}
        if condition:
            stmt["Condition"] = _shuffled(condition, draw)
        statements.append(_shuffled(stmt, draw))
    body: Any = statements[0] if len(statements) == 1 and draw(st.booleans()) else statements
    return json.dumps(
        _shuffled({"Version": "2012-10-17", "Statement": body}, draw), indent=draw(st.sampled_from([None, 2]))
    )


def _outcome(document: str, site: str) -> list[tuple[str, str, str]]:
    findings = run(snapshot(role(document)), site=site, expected_values=expected())
    return sorted((f.check, f.status.value, f.severity.value) for f in findings)


@settings(max_examples=150, deadline=None)
@given(st.data(), _policy_model, st.sampled_from(["datadoghq.com", "ap1.datadoghq.com"]))
def test_equivalent_shapes_give_the_same_findings(data, model, site):
    first = data.draw(_render(model))
    second = data.draw(_render(model))
    assert _outcome(first, site) == _outcome(second, site)


@settings(max_examples=150, deadline=None)
@given(st.data(), _policy_model)
def test_external_ids_never_leak_and_a_pass_excludes_failures(data, model):
    findings = run(snapshot(role(data.draw(_render(model)))), expected_values=expected())
    for f in findings:
        assert EXTERNAL_ID not in f.detail + f.evidence and OTHER_EXTERNAL_ID not in f.detail + f.evidence
    passes = [f for f in findings if f.status is Status.PASS]
    if passes:
        assert all(f.severity.value == "info" for f in findings)
    assert len({f.key for f in findings}) == len(findings)  # one finding per check id and account


@settings(max_examples=200, deadline=None)
@given(role_policy_json)
def test_role_findings_never_crash_on_any_trust_document(data):
    findings = run(snapshot(role(json.dumps(data))))
    assert findings
