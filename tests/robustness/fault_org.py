"""The test organization: a few member accounts in moto, each with the Datadog role, and the config to audit it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3
from faults import Faults

from auditor.config import Config, config_from_dict
from auditor.demo.organization import DATADOG_PERMISSIONS

AUDIT_ROLE = "OrganizationAccountAccessRole"  # moto creates it in every new member account
DD_ROLE = "DatadogIntegrationRole"
DATADOG_ROOT = "arn:aws:iam::464622532012:root"


def trust(external_id: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": DATADOG_ROOT}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": external_id}}}]})


@dataclass(frozen=True)
class Org:
    session: boto3.Session
    faults: Faults
    management: str
    members: tuple[str, ...]  # member account ids, creation order
    ou: str  # the OU holding the members

    @property
    def all_accounts(self) -> set[str]:
        return {self.management, *self.members}


def build_org(session: boto3.Session, members: int) -> tuple[str, tuple[str, ...], str]:
    org = session.client("organizations")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    org.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    ou = org.create_organizational_unit(ParentId=root, Name="Workloads")["OrganizationalUnit"]["Id"]
    ids = []
    for i in range(members):
        acct = org.create_account(AccountName=f"member-{i}", Email=f"m{i}@example.com")["CreateAccountStatus"][
            "AccountId"]
        org.move_account(AccountId=acct, SourceParentId=root, DestinationParentId=ou)
        creds = session.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{acct}:role/{AUDIT_ROLE}", RoleSessionName="setup")["Credentials"]
        iam = boto3.client("iam", region_name="us-east-1", aws_access_key_id=creds["AccessKeyId"],
                           aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
        iam.create_role(RoleName=DD_ROLE, AssumeRolePolicyDocument=trust(f"ext-{acct}"))
        iam.put_role_policy(RoleName=DD_ROLE, PolicyName="DatadogAWSIntegrationPolicy",
                            PolicyDocument=json.dumps(DATADOG_PERMISSIONS))
        ids.append(acct)
    mgmt = org.describe_organization()["Organization"]["MasterAccountId"]
    session.client("iam").create_role(RoleName=DD_ROLE, AssumeRolePolicyDocument=trust(f"ext-{mgmt}"))
    return mgmt, tuple(ids), ou


def make_config(**sections: dict[str, Any]) -> Config:
    data: dict[str, dict[str, Any]] = {
        "organization": {"audit_role_name": AUDIT_ROLE},
        "datadog": {"expected_values": "none"},
        "regions": {"audited": ["us-east-1", "eu-west-1"]},
        "run": {"workers": 4, "max_attempts": 3},
    }
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    return config_from_dict(data, source="<test>")
