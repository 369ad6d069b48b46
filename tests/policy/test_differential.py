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


# Datadog's two requests as README.md's "Policy semantics" table classifies them, written out here apart
# from auditor/policy/request_keys.py (tests/policy/test_request_keys.py checks the table against it key
# by key): a key listed nowhere is unknown.
REQUEST_WIDE = {
    "known": {"aws:securetransport": ["true"], "aws:viaawsservice": ["false"], "aws:principalisawsservice": ["false"],
              "aws:multifactorauthpresent": ["false"]},
    "absent": {"aws:calledvia", "aws:calledviafirst", "aws:calledvialast", "aws:calledviaawsmcp", "aws:sourceaccount",
               "aws:sourcearn", "aws:sourceorgid", "aws:sourceorgpaths", "aws:referer", "aws:principalservicename",
               "aws:principalservicenameslist", "aws:assumedroot", "aws:chatbotsourcearn", "aws:multifactorauthage",
               "aws:username", "aws:sourceidentity", "aws:requesttag/", "aws:tagkeys"},
    "present_unknown": {"aws:currenttime", "aws:epochtime", "aws:useragent", "aws:userid", "aws:tokenissuetime"},
    "maybe": {"aws:viaawsmcpservice": ["false"], "aws:ismcpserviceaction": ["false"]},
}


def org_keys(prefix: str, account: Account) -> dict[str, list[str]]:
    return {f"aws:{prefix}account": [account.id], f"aws:{prefix}orgid": [ORG],
            f"aws:{prefix}orgpaths": [org_path(account)]}


def reference_probe(account: Account, facts: dict[str, Any], arn: str) -> dict[str, Any]:
    known = {**REQUEST_WIDE["known"], "aws:requestedregion": [facts["region"]], "aws:principalarn": [arn],
             **org_keys("principal", account), **org_keys("resource", account),
             "aws:principaltype": ["AssumedRole"]}
    known.update({f"aws:principaltag/{k.lower()}": [v] for k, v in facts["tags"]})
    if facts["action"].lower().startswith("ec2:"):
        known["ec2:region"] = [facts["region"]]
    absent = {k for k in REQUEST_WIDE["absent"] if not k.endswith("/")} | {
        "aws:federatedprovider", "aws:ec2instancesourcevpc", "aws:ec2instancesourceprivateipv4",
        "ec2:sourceinstancearn", "ec2:roledelivery"}
    return {"action": facts["action"], "region": facts["region"], "account": account.id, "partition": "aws",
            "resource": "*", "principal_account": account.id, "known": known, "absent": absent,
            "absent_prefixes": ["aws:principaltag/", "aws:requesttag/", "aws:resourcetag/"],
            "present_unknown": set(REQUEST_WIDE["present_unknown"]), "maybe": dict(REQUEST_WIDE["maybe"])}


def reference_assume(account: Account, facts: dict[str, Any], arn: str) -> dict[str, Any]:
    known = {**REQUEST_WIDE["known"], "aws:requestedregion": [facts["region"]], **org_keys("resource", account),
             "aws:principalaccount": [DATADOG]}
    known.update({f"aws:resourcetag/{k.lower()}": [v] for k, v in facts["tags"]})
    absent = {k for k in REQUEST_WIDE["absent"] if not k.endswith("/")} | {
        "aws:principalorgid", "aws:principalorgpaths", "sts:transitivetagkeys", "sts:sourceidentity",
        "sts:requestcontext", "sts:requestcontextproviders"}
    return {"action": "sts:AssumeRole", "region": facts["region"], "account": account.id, "partition": "aws",
            "resource": arn, "principal_account": DATADOG, "known": known, "absent": absent,
            "absent_prefixes": ["aws:resourcetag/", "aws:requesttag/"],
            "present_unknown": REQUEST_WIDE["present_unknown"] | {"sts:externalid", "sts:rolesessionname",
                                                                   "aws:principalarn", "aws:principaltype"},
            "maybe": dict(REQUEST_WIDE["maybe"])}


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
