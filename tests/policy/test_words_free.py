"""The region matrix without words (issue #7) gives exactly what it gave with them.

`evaluate_regions` evaluates without the statements' reasoning, which it never shows. Its whole
RegionAnalysis (verdicts and reasons, findings and evidence, exclusions, counters) must equal the
one the word-for-word Evaluator gives, on random organizations (SCPs and RCPs together, several
account groups, role tags, missing roles, unaudited and management accounts, unparsable policies)
and on the real policies. `auditor explain` keeps every word (tests/policy/test_explain.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditor.checks.regions import matrix_findings
from auditor.model import RCP, SCP, Account, AccountError, AccountSnapshot, Inventory, OrgPolicy, OrgUnit
from auditor.policy.chain import ALLOWED, DENIED
from auditor.policy.document import parse_policy
from auditor.policy.engine import Evaluator
from auditor.policy.matrix import RegionAnalysis, evaluate_regions, matrix_with
from auditor.policy.requests import RoleFacts, probe_request
from auditor.policy.statement import StatementMemo

from .builders import (
    CONTROL_TOWER,
    DOCS_EU,
    FULL_ACCESS,
    MGMT,
    ORG,
    OU_PAY,
    OU_PROD,
    PERIMETER,
    ROLE,
    ROOT,
    account,
    doc,
    full_access_everywhere,
    inventory,
    policy,
    real,
    role_info,
    snapshot,
    stmt,
)
from .strategies import ACTIONS, REGIONS, ROLES, TAGS, rcp_levels, scp_levels
from .test_differential import fast

MEMBERS = ("111111111111", "222222222222", "333333333333", "444444444444")
OUS = ("ou-ab12-aaaaaaaa", "ou-ab12-bbbbbbbb")
UNPARSABLE = ("{not json", '{"Version": "2012-10-17", "Statement": [{"Effect": "Deny"}]}')
SITE = "datadoghq.com"


def both_ways(inv: Inventory, snaps: dict[str, AccountSnapshot], *, regions: Sequence[str],
              actions: Sequence[str], exclude_partial: bool) -> tuple[RegionAnalysis, RegionAnalysis]:
    """(word for word, as evaluate_regions gives it)."""
    kw: dict[str, Any] = {"regions": regions, "probe_actions": actions, "role_name": ROLE,
                          "exclude_partial": exclude_partial}
    with_words = matrix_with(Evaluator(inv, site=SITE, words=True), snaps, **kw)
    return with_words, evaluate_regions(inv, snaps, site=SITE, **kw)


def build_org(scp: list[list[dict[str, Any]]], rcp: list[list[dict[str, Any]]], broken: tuple[str, int] | None,
              under_root: int) -> tuple[Inventory, list[Account]]:
    """test_differential.build_org's shape with both policy types and more accounts: members (the first
    `under_root` directly under the root, the others under the OUs) and the management account, all
    under the OUs' chain; RCP levels beyond the SCP ones are dropped. `broken`: (text, level) of an
    unparsable SCP."""
    ous = OUS[: len(scp) - 2]
    accounts = [Account(a, a, "", "ACTIVE", ROOT if i < under_root else (ous[-1] if ous else ROOT), "Root",
                        (ROOT, a) if i < under_root else (ROOT, *ous, a))
                for i, a in enumerate((*MEMBERS, MGMT))]
    targets = [[ROOT], *[[ou] for ou in ous], [a.id for a in accounts]]
    policies = [OrgPolicy(f"{kind}-{n}-{m}", f"{kind} policy {n}.{m}", kind, False, "", json.dumps(document),
                          tuple(targets[n]))
                for kind, levels in ((SCP, scp), (RCP, rcp[: len(scp)]))
                for n, level in enumerate(levels) for m, document in enumerate(level)]
    if broken is not None:
        text, level = broken
        policies.append(OrgPolicy("p-broken", "broken", SCP, False, "", text, tuple(targets[level % len(targets)])))
    units = (OrgUnit(ROOT, "Root", "", "Root"), *[OrgUnit(ou, ou, ROOT, "Root/x") for ou in ous])
    return Inventory(ORG, MGMT, "aws", (SCP, RCP), units, tuple(accounts), tuple(policies)), accounts


@st.composite
def snapshot_for(draw: st.DrawFn, account_id: str) -> AccountSnapshot | None:
    kind = draw(st.sampled_from(("role", "role", "role", "missing", "error", "none")))
    if kind == "none":
        return None
    if kind == "error":
        return AccountSnapshot(account_id, None, error=AccountError("assume_role", "AccessDenied", "no"))
    if kind == "missing":
        return AccountSnapshot(account_id, None)
    path, name = draw(st.sampled_from(ROLES))
    tags = draw(st.lists(st.sampled_from(TAGS), max_size=2, unique_by=lambda t: t[0]))
    return AccountSnapshot(account_id, role_info(account_id, path=path, name=name, tags=tags))


@fast(250)
@given(scp=scp_levels(), rcp=rcp_levels(), data=st.data(),
       broken=st.none() | st.tuples(st.sampled_from(UNPARSABLE), st.integers(0, 3)),
       under_root=st.integers(0, 2),
       regions=st.lists(st.sampled_from((*REGIONS, "us-west-2", "eu-central-1")), min_size=1, max_size=5,
                        unique=True),
       actions=st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=4, unique=True),
       exclude_partial=st.booleans())
def test_random_organizations_get_the_same_matrix_without_words(
        scp: list[Any], rcp: list[Any], data: st.DataObject, broken: tuple[str, int] | None, under_root: int,
        regions: list[str], actions: list[str], exclude_partial: bool) -> None:
    inv, accounts = build_org(scp, rcp, broken, under_root)
    snaps = {a.id: s for a in accounts if (s := data.draw(snapshot_for(a.id))) is not None}
    with_words, without = both_ways(inv, snaps, regions=regions, actions=actions, exclude_partial=exclude_partial)
    assert without == with_words


REAL_REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "eu-west-3", "ap-south-1", "sa-east-1")
REAL_ACTIONS = ("cloudwatch:GetMetricData", "ec2:DescribeInstances", "tag:GetResources", "s3:ListAllMyBuckets",
                "iam:ListRoles")
A1, A2, A3, A4, A5, A6, A7 = (str(n) * 12 for n in range(1, 8))
EXEMPT_TAG = ("dp:exclude:identity", "true")  # the data perimeter RCP lets Datadog assume a role tagged so


def real_org(types: Sequence[str]) -> tuple[Inventory, dict[str, AccountSnapshot]]:
    """Control Tower's region deny on Prod, the AWS docs' EU-only SCP on Payments (under Prod), the data
    perimeter RCP on the root, a broken SCP on one account; roles of every kind, accounts of every state."""
    accts = [account(A1), account(A2, ous=(OU_PROD, OU_PAY)), account(A3, ous=(OU_PROD, OU_PAY)),
             account(A4), account(A5, ous=()), account(A6, status="SUSPENDED"), account(A7), account(MGMT, ous=())]
    policies = [
        full_access_everywhere(accts),
        policy("p-ct", SCP, real(CONTROL_TOWER), [OU_PROD], "CT region deny"),
        policy("p-eu", SCP, real(DOCS_EU), [OU_PAY], "EU only"),
        policy("p-dp", RCP, real(PERIMETER), [ROOT], "Data perimeter"),
        policy("p-broken", SCP, UNPARSABLE[1], [A4], "Broken"),
        policy("p-own", SCP, doc(stmt("Deny", "ec2:*", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})),
               [A5], "VPN"),
        # A policy variable: each account's role must carry its own account id as owner tag.
        policy("p-owner", SCP, doc(stmt("Deny", "iam:*", Condition={
            "StringNotEquals": {"aws:PrincipalTag/owner": "${aws:PrincipalAccount}"}})), [OU_PAY], "Owner tag"),
    ]
    snaps = {
        A1: snapshot(A1),
        A2: snapshot(A2, tags=[EXEMPT_TAG, ("owner", A2)]),
        A3: AccountSnapshot(A3, None),  # role missing
        A4: snapshot(A4, name="AWSControlTowerExecution", tags=[EXEMPT_TAG]),
        A5: snapshot(A5, path="/ops/", tags=[("team", "a"), EXEMPT_TAG]),
        A6: snapshot(A6),
        A7: AccountSnapshot(A7, None, error=AccountError("assume_role", "AccessDenied", "no")),
        MGMT: snapshot(MGMT),
    }
    return inventory(accts, policies, types=types), snaps


@pytest.mark.parametrize("types", [(SCP, RCP), (SCP,), (RCP,)])
@pytest.mark.parametrize("exclude_partial", [True, False])
def test_real_policies_get_the_same_matrix_without_words(types: Sequence[str], exclude_partial: bool) -> None:
    inv, snaps = real_org(types)
    with_words, without = both_ways(inv, snaps, regions=REAL_REGIONS, actions=REAL_ACTIONS,
                                    exclude_partial=exclude_partial)
    assert without == with_words
    assert {v.verdict.value for v in without.verdicts} >= {"allowed", "not_applicable"}


def test_real_policies_exercise_every_kind_of_decision() -> None:
    """The comparison above is only as good as the decisions it meets: denied, partial, indeterminate."""
    inv, snaps = real_org((SCP, RCP))
    _, without = both_ways(inv, snaps, regions=REAL_REGIONS, actions=REAL_ACTIONS, exclude_partial=True)
    assert {v.verdict.value for v in without.verdicts} == {"allowed", "denied", "partial", "indeterminate",
                                                           "not_applicable"}
    assert {f.check for f in matrix_findings(without, inv)} >= {"scp_region_denied", "rcp_assume_role_denied",
                                                   "region_indeterminate", "policy_document_invalid",
                                                   "org_policies_allow"}


def region_deny_with_exemption() -> dict[str, Any]:
    return doc(stmt("Deny", "*", Condition={"StringNotEquals": {"aws:RequestedRegion": ["us-east-1"]},
                                            "ArnNotLike": {"aws:PrincipalARN": "arn:aws:iam::*:role/Admin"}}))


def test_without_words_a_statement_is_answered_once_for_every_role_its_conditions_treat_alike() -> None:
    accts = [account(a) for a in MEMBERS]
    inv = inventory(accts, [])
    statement = parse_policy(json.dumps(region_deny_with_exemption())).statements[0]
    memos = {words: StatementMemo(words=words) for words in (True, False)}
    for a in accts:
        facts = role_facts(a.id)
        for region in ("eu-west-1", "ap-south-1"):
            req = probe_request(inv, a, facts, region, "ec2:DescribeInstances")
            answers = {words: memo.applies(statement, req) for words, memo in memos.items()}
            assert answers[False].value is answers[True].value is True
            assert answers[False].why == "" and a.id in answers[True].why
    # With words: one answer per role ARN and region (the words quote both). Without: one in all.
    assert (len(memos[True]), len(memos[False])) == (len(accts) * 2, 1)


def test_without_words_decisions_keep_their_headline_and_drop_the_reasoning() -> None:
    accts = [account(A1)]
    inv = inventory(accts, [full_access_everywhere(accts), policy("p", SCP, region_deny_with_exemption(), [ROOT])])
    facts = role_facts(A1)
    full, short = (Evaluator(inv, site=SITE, words=w) for w in (True, False))
    for region, outcome in (("eu-west-1", DENIED), ("us-east-1", ALLOWED)):
        worded, bare = full.probe(accts[0], facts, region, "ec2:DescribeInstances"), \
            short.probe(accts[0], facts, region, "ec2:DescribeInstances")
        assert worded.outcome == bare.outcome == outcome
        assert (bare.short, bare.deciding_policies, bare.unknown_keys) == \
            (worded.short, worded.deciding_policies, worded.unknown_keys)
        assert bare.summary == worded.short and bare.levels == () and worded.levels != ()
    assert "aws:RequestedRegion" in full.probe(accts[0], facts, "eu-west-1", "ec2:DescribeInstances").summary


def test_without_words_regions_whose_statements_answer_alike_share_one_decision() -> None:
    accts = [account(A1)]
    inv = inventory(accts, [full_access_everywhere(accts), policy("p", SCP, region_deny_with_exemption(), [ROOT])])
    ev = Evaluator(inv, site=SITE, words=False)
    facts = role_facts(A1)
    eu, ap = (ev.probe(accts[0], facts, r, "ec2:DescribeInstances") for r in ("eu-west-1", "ap-south-1"))
    assert eu is ap and eu.outcome == DENIED
    assert ev.evaluations == 2  # still counted per region: the counters are the same with words


def test_without_words_an_allowed_summary_names_its_own_action() -> None:
    accts = [account(A1)]
    inv = inventory(accts, [policy("p-FullAWSAccess", SCP, FULL_ACCESS, [ROOT, OU_PROD, A1])])
    ev = Evaluator(inv, site=SITE, words=False)
    for action in ("iam:ListRoles", "tag:GetResources"):
        decision = ev.probe(accts[0], role_facts(A1), "eu-west-1", action)
        assert decision.summary == f"every level allows {action} and no Deny applies"


def test_without_words_decisions_name_the_account_asked_about() -> None:
    """Two accounts of one group (the policy cannot tell them apart), asked in different regions."""
    accts = [account(A1), account(A2)]
    deny = policy("p", SCP, region_deny_with_exemption(), [A1, A2])
    inv = inventory(accts, [full_access_everywhere(accts), deny])
    full, bare = (Evaluator(inv, site=SITE, words=w) for w in (True, False))
    for acct, region in ((accts[0], "eu-west-1"), (accts[1], "ap-south-1")):
        worded = full.probe(acct, role_facts(acct.id), region, "ec2:DescribeInstances")
        short = bare.probe(acct, role_facts(acct.id), region, "ec2:DescribeInstances")
        assert short.headline == worded.headline and f"at {acct.id}" in short.headline


def test_without_words_a_principal_element_still_tells_callers_apart() -> None:
    names_a1 = parse_policy(json.dumps(doc(stmt("Deny", "*", Principal={"AWS": f"arn:aws:iam::{A1}:root"}))))
    memo = StatementMemo(words=False)
    accts = [account(A1), account(A2)]
    inv = inventory(accts, [])
    answers = [memo.applies(names_a1.statements[0], probe_request(inv, a, role_facts(a.id), "eu-west-1",
                                                                  "iam:ListRoles")).value for a in accts]
    assert answers == [True, False]


def role_facts(account_id: str) -> RoleFacts:
    return RoleFacts(ROLE, "/", f"arn:aws:iam::{account_id}:role/{ROLE}", ())
