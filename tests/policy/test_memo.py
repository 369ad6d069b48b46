"""The memo shared by every request of a run (StatementMemo) never changes an answer or its words.

Each example evaluates several requests (accounts, regions, actions, role facts) through one shared
memo, in an order that makes later requests hit what earlier ones stored, and compares every
Decision, texts and per-level outcomes included, with a fresh evaluation that shares nothing.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from auditor.facts.sites import datadog_principal
from auditor.model import RCP, SCP
from auditor.policy.chain import evaluate_rcp_chain, evaluate_scp_chain
from auditor.policy.engine import OrgPolicies
from auditor.policy.requests import RoleFacts, assume_role_request, probe_request
from auditor.policy.statement import StatementMemo

from .strategies import rcp_levels, request_facts, scp_levels
from .test_differential import build_org, fast


def _role(account_id: str, f: dict[str, Any]) -> RoleFacts:
    return RoleFacts(f["name"], f["path"], f"arn:aws:iam::{account_id}:role{f['path']}{f['name']}", tuple(f["tags"]))


@fast(300)
@given(levels=scp_levels(), facts=st.lists(request_facts(), min_size=2, max_size=5))
def test_a_shared_memo_gives_the_same_scp_decisions_word_for_word(levels: list[Any], facts: list[Any]) -> None:
    inv, accounts = build_org(levels, SCP)
    org, memo = OrgPolicies(inv), StatementMemo()
    for _ in range(2):  # the second pass answers from the memo
        for f in facts:
            for account in accounts:
                req = probe_request(inv, account, _role(account.id, f), f["region"], f["action"])
                chain = org.chain(account, SCP)
                assert evaluate_scp_chain(chain, req, memo) == evaluate_scp_chain(chain, req)


@fast(200)
@given(levels=rcp_levels(), facts=st.lists(request_facts(), min_size=2, max_size=5))
def test_a_shared_memo_gives_the_same_rcp_decisions_word_for_word(levels: list[Any], facts: list[Any]) -> None:
    inv, accounts = build_org(levels, RCP)
    org, memo = OrgPolicies(inv), StatementMemo()
    datadog = datadog_principal("datadoghq.com", "aws")
    for _ in range(2):
        for f in facts:
            for account in accounts:
                req = assume_role_request(inv, account, _role(account.id, f), f["region"], datadog)
                chain = org.chain(account, RCP)
                assert evaluate_rcp_chain(chain, req, memo) == evaluate_rcp_chain(chain, req)


def test_the_memo_answers_a_statement_once_for_requests_that_differ_only_where_it_does_not_read() -> None:
    inv, accounts = build_org([[{"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "*", "Resource": "*",
         "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}}}]}], [], []], SCP)
    org, memo = OrgPolicies(inv), StatementMemo()
    member = accounts[0]
    regions = ("eu-west-1", "us-east-1", "ap-south-1")
    for region in regions:
        for account in accounts[:2]:
            evaluate_scp_chain(org.chain(account, SCP),
                               probe_request(inv, account, _role(account.id, {"name": "R", "path": "/", "tags": []}),
                                             region, "ec2:DescribeInstances"), memo)
    # The Allow reads nothing of the request but its action: one answer. The Deny reads the region:
    # one answer per region, shared by both accounts.
    assert member.id != accounts[1].id
    assert len(memo) == 1 + len(regions)
