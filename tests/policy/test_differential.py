"""The evaluator against the naive reference (tests/policy/reference.py) on random org chains.

Two checks per request: the engine's verdict equals the reference's (same Kleene
semantics, independent code), and a definite verdict holds in every possible world of
the keys the auditor cannot know (the reference brute-forces them): never a guessed
"allowed". Each example evaluates two member accounts and the management account
through one Evaluator, so cached and per-account decisions are checked as well.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.model import RCP, SCP, Account, Inventory, OrgPolicy, OrgUnit
from auditor.policy.engine import Evaluator
from auditor.policy.requests import RoleFacts

from . import reference as ref
from .builders import MGMT, ORG, ROOT
from .strategies import (
    DATADOG,
    RCP_WORLDS,
    SCP_WORLDS,
    rcp_levels,
    request_facts,
    scp_levels,
)

MEMBERS = ("111111111111", "222222222222")
OUS = ("ou-ab12-aaaaaaaa", "ou-ab12-bbbbbbbb")


def fast(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def build_org(levels: list[list[dict[str, Any]]], kind: str) -> tuple[Inventory, list[Account]]:
    ous = OUS[: len(levels) - 2]
    accounts = [Account(a, a, "", "ACTIVE", ous[-1] if ous else ROOT, "Root", (ROOT, *ous, a))
                for a in (*MEMBERS, MGMT)]
    targets_by_level = [[ROOT], *[[ou] for ou in ous], [a.id for a in accounts]]
    policies = []
    for n, (level, targets) in enumerate(zip(levels, targets_by_level, strict=True)):
        for m, document in enumerate(level):
            policies.append(OrgPolicy(f"p-{n}-{m}", f"policy {n}.{m}", kind, False, "", json.dumps(document),
                                      tuple(targets)))
    units = (OrgUnit(ROOT, "Root", "", "Root"), *[OrgUnit(ou, ou, ROOT, "Root/x") for ou in ous])
    return Inventory(ORG, MGMT, "aws", (SCP, RCP), units, tuple(accounts), tuple(policies)), accounts


def org_path(account: Account) -> str:
    return "/".join((ORG, *account.chain[:-1])) + "/"


def reference_probe(account: Account, facts: dict[str, Any], arn: str) -> dict[str, Any]:
    known = {"aws:requestedregion": [facts["region"]], "aws:principalarn": [arn],
             "aws:principalaccount": [account.id], "aws:principalorgid": [ORG],
             "aws:principalorgpaths": [org_path(account)], "aws:principaltype": ["AssumedRole"],
             "aws:principalisawsservice": ["false"], "aws:viaawsservice": ["false"], "aws:securetransport": ["true"]}
    known.update({f"aws:principaltag/{k.lower()}": [v] for k, v in facts["tags"]})
    if facts["action"].lower().startswith("ec2:"):
        known["ec2:region"] = [facts["region"]]
    return {"action": facts["action"], "region": facts["region"], "account": account.id, "partition": "aws",
            "resource": "*", "principal_account": account.id, "known": known,
            "absent": {"aws:principalservicename", "aws:principalservicenameslist", "aws:multifactorauthpresent",
                       "aws:multifactorauthage", "aws:username", "aws:federatedprovider", "aws:tagkeys",
                       "aws:ec2instancesourcevpc", "aws:ec2instancesourceprivateipv4"},
            "absent_prefixes": ["aws:principaltag/", "aws:requesttag/"],
            "present_unknown": {"aws:userid", "aws:sourceip", "aws:useragent", "aws:currenttime", "aws:epochtime",
                                "aws:tokenissuetime"}}


def reference_assume(account: Account, facts: dict[str, Any], arn: str) -> dict[str, Any]:
    known = {"aws:requestedregion": [facts["region"]], "aws:principalisawsservice": ["false"],
             "aws:viaawsservice": ["false"], "aws:securetransport": ["true"], "aws:resourceaccount": [account.id],
             "aws:resourceorgid": [ORG], "aws:resourceorgpaths": [org_path(account)],
             "aws:principalaccount": [DATADOG]}
    known.update({f"aws:resourcetag/{k.lower()}": [v] for k, v in facts["tags"]})
    return {"action": "sts:AssumeRole", "region": facts["region"], "account": account.id, "partition": "aws",
            "resource": arn, "principal_account": DATADOG, "known": known,
            "absent": {"aws:principalorgid", "aws:principalorgpaths", "aws:principalservicename",
                       "aws:principalservicenameslist", "aws:multifactorauthpresent", "aws:multifactorauthage"},
            "absent_prefixes": ["aws:resourcetag/"],
            "present_unknown": {"sts:externalid", "sts:rolesessionname", "aws:principalarn", "aws:principaltype",
                                "aws:userid", "aws:sourceip", "aws:useragent", "aws:currenttime", "aws:epochtime",
                                "aws:tokenissuetime"}}


def exempt(account: Account, facts: dict[str, Any]) -> bool:
    return account.id == MGMT or facts["path"].startswith("/aws-service-role/")


def check_against_reference(mine: str, request: dict[str, Any], decide: Any, world_keys: dict[str, list[str]],
                            context: str) -> None:
    expected = decide(request)
    assert mine == expected, f"{context}: engine {mine}, reference {expected}"
    if mine != "indeterminate":
        used = {k: v for k, v in world_keys.items() if k.lower() in context.lower()}  # keys the chain mentions
        outcomes = {decide(w) for w in ref.worlds(request, used)}
        assert outcomes == {mine}, f"{context}: engine {mine} but possible worlds give {outcomes}"


@fast(600)
@given(levels=scp_levels(), facts=st.lists(request_facts(), min_size=1, max_size=3))
def test_scp_verdicts_match_the_reference(levels: list[list[dict[str, Any]]], facts: list[dict[str, Any]]) -> None:
    inv, accounts = build_org(levels, SCP)
    ev = Evaluator(inv, site="datadoghq.com")
    for f in facts:
        for account in accounts:
            arn = f"arn:aws:iam::{account.id}:role{f['path']}{f['name']}"
            role = RoleFacts(f["name"], f["path"], arn, tuple(f["tags"]))
            mine = ev.probe(account, role, f["region"], f["action"]).outcome
            if exempt(account, f):
                assert mine == "allowed"
                continue
            request = reference_probe(account, f, arn)
            check_against_reference(mine, request, lambda r: ref.scp(levels, r), SCP_WORLDS,
                                    f"{account.id} {f} {json.dumps(levels)}")


@fast(350)
@given(levels=rcp_levels(), facts=st.lists(request_facts(), min_size=1, max_size=3))
def test_rcp_verdicts_match_the_reference(levels: list[list[dict[str, Any]]], facts: list[dict[str, Any]]) -> None:
    inv, accounts = build_org(levels, RCP)
    ev = Evaluator(inv, site="datadoghq.com")
    for f in facts:
        for account in accounts:
            arn = f"arn:aws:iam::{account.id}:role{f['path']}{f['name']}"
            role = RoleFacts(f["name"], f["path"], arn, tuple(f["tags"]))
            mine = ev.assume_role(account, role, f["region"]).outcome
            if exempt(account, f):
                assert mine == "allowed"
                continue
            request = reference_assume(account, f, arn)
            check_against_reference(mine, request, lambda r: ref.rcp(levels, r), RCP_WORLDS,
                                    f"{account.id} {f} {json.dumps(levels)}")
