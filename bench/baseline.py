"""The naive baseline: how a straightforward script reads an organization, for comparison.

Serial, one account after another; for each account a new boto3 session, AssumeRole, the
same IAM reads as the auditor, then its SCP/RCP chain the obvious way: ListParents up to the
root and, at every level, ListPoliciesForTarget per policy type and DescribePolicy per policy
found (nothing cached). Account list: ListAccounts, 20 per page.

Reading thousands of accounts this way takes hours, so it runs on an evenly spread sample of
accounts and the harness extrapolates (per-account time x accounts + the listing's pages).
Runs in its own process; prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

import boto3

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.simaws import AUDIT_ROLE, DATADOG_ROLE

POLICY_TYPES = ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY")


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class Counting:
    def __init__(self) -> None:
        self.calls: dict[str, int] = {}

    def __call__(self, model: Any, **_: Any) -> None:
        name = f"{model.service_model.service_name}.{model.name}"
        self.calls[name] = self.calls.get(name, 0) + 1


def naive_account(account_id: str, counter: Counting) -> None:
    session = boto3.Session(region_name="us-east-1")
    session.events.register("before-call", counter)
    creds = session.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/{AUDIT_ROLE}", RoleSessionName="naive-audit")["Credentials"]
    member = boto3.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                           aws_session_token=creds["SessionToken"], region_name="us-east-1")
    member.events.register("before-call", counter)
    iam = member.client("iam")
    iam.get_role(RoleName=DATADOG_ROLE)
    iam.list_attached_role_policies(RoleName=DATADOG_ROLE)
    for name in iam.list_role_policies(RoleName=DATADOG_ROLE)["PolicyNames"]:
        iam.get_role_policy(RoleName=DATADOG_ROLE, PolicyName=name)
    org = session.client("organizations")

    def read_policies(target: str) -> None:
        for ptype in POLICY_TYPES:
            for pol in org.list_policies_for_target(TargetId=target, Filter=ptype)["Policies"]:
                org.describe_policy(PolicyId=pol["Id"])

    target = account_id
    while True:  # the account, then each parent up to the root
        read_policies(target)
        parents = org.list_parents(ChildId=target)["Parents"]
        if not parents:
            break
        target = parents[0]["Id"]
        if parents[0]["Type"] == "ROOT":
            read_policies(target)
            break


def list_pages(pages: int, counter: Counting) -> int:
    """The first `pages` pages of ListAccounts (the harness extrapolates to the whole list)."""
    session = boto3.Session(region_name="us-east-1")
    session.events.register("before-call", counter)
    org = session.client("organizations")
    done, token = 0, None
    while done < pages:
        kwargs: dict[str, Any] = {"MaxResults": 20}
        if token:
            kwargs["NextToken"] = token
        page = org.list_accounts(**kwargs)
        done += 1
        token = page.get("NextToken")
        if not token:
            break
    return done


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    p.add_argument("--accounts", required=True, help="comma-separated sample of member account ids")
    p.add_argument("--list-pages", type=int, default=3)
    a = p.parse_args(argv)
    sample = [x for x in a.accounts.split(",") if x]
    counter = Counting()
    w, c = time.perf_counter(), cpu_seconds()
    pages = list_pages(a.list_pages, counter)
    list_wall = time.perf_counter() - w
    w, c = time.perf_counter(), cpu_seconds()
    for account_id in sample:
        naive_account(account_id, counter)
    wall, cpu = time.perf_counter() - w, cpu_seconds() - c
    print(json.dumps({
        "sample": len(sample), "wall": wall, "cpu": cpu, "list_pages": pages, "list_wall": list_wall,
        "api_calls": dict(sorted(counter.calls.items())),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }))


if __name__ == "__main__":
    main()
