"""Plain-data builders for policy tests: documents, org chains, accounts, requests."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditor.checks.regions import matrix_findings
from auditor.model import RCP, SCP, Account, AccountSnapshot, Finding, Inventory, OrgPolicy, OrgUnit, RoleInfo
from auditor.policy.chain import Attached, Chain, Level
from auditor.policy.context import Context
from auditor.policy.document import parse_policy
from auditor.policy.matrix import RegionAnalysis
from auditor.policy.requests import RoleFacts, assume_role_request, probe_request

POLICIES = Path(__file__).resolve().parents[2] / "auditor" / "demo" / "policies"
ORG = "o-exampleorgid"
ROOT = "r-ab12"
OU_PROD = "ou-ab12-11111111"
OU_PAY = "ou-ab12-22222222"
MGMT = "999999999999"
ACCT = "111122223333"
ROLE = "DatadogIntegrationRole"
DATADOG_US1 = "464622532012"
FULL_ACCESS = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def real(name: str) -> str:
    return (POLICIES / name).read_text()


CONTROL_TOWER = "control-tower-region-deny.scp.json"
DOCS_EU = "aws-docs-deny-outside-eu.scp.json"
PERIMETER = "data-perimeter-identity.rcp.json"


def doc(*statements: Mapping[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def stmt(effect: str = "Deny", action: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"Effect": effect, "Action": action, "Resource": "*"}
    out.update(extra)
    return out


def attached(policy_id: str, document: Any, name: str = "") -> Attached:
    text = document if isinstance(document, str) else json.dumps(document)
    return Attached(policy_id, name or policy_id, parse_policy(text, policy_id=policy_id, name=name or policy_id))


def chain(kind: str, *levels: Sequence[Attached]) -> Chain:
    """Levels from the root down to ACCT: 1 level = the account only, 2 = root + account, ..."""
    ids = [*[ROOT, OU_PROD, OU_PAY][: len(levels) - 1], ACCT]
    return Chain(kind, tuple(Level(t, t, tuple(p)) for t, p in zip(ids, levels, strict=True)))


def account(account_id: str = ACCT, *, ous: Sequence[str] = (OU_PROD,), status: str = "ACTIVE",
            name: str = "payments") -> Account:
    return Account(account_id, name, f"{name}@example.com", status, ous[-1] if ous else ROOT,
                   "Root/" + "/".join(ous), (ROOT, *ous, account_id))


def role(account_id: str = ACCT, *, path: str = "/", tags: Sequence[tuple[str, str]] = (),
         name: str = ROLE) -> RoleFacts:
    return RoleFacts(name, path, f"arn:aws:iam::{account_id}:role{path}{name}", tuple(tags))


def role_info(account_id: str = ACCT, *, path: str = "/", tags: Sequence[tuple[str, str]] = (),
              name: str = ROLE) -> RoleInfo:
    return RoleInfo(name, path, f"arn:aws:iam::{account_id}:role{path}{name}", "{}", tuple(tags), (), ())


def snapshot(account_id: str = ACCT, **kw: Any) -> AccountSnapshot:
    return AccountSnapshot(account_id, role_info(account_id, **kw))


def policy(policy_id: str, kind: str, document: Any, targets: Sequence[str], name: str = "") -> OrgPolicy:
    text = document if isinstance(document, str) else json.dumps(document)
    return OrgPolicy(policy_id, name or policy_id, kind, policy_id == "p-FullAWSAccess", "", text, tuple(targets))


def inventory(accounts: Sequence[Account], policies: Sequence[OrgPolicy], *,
              types: Sequence[str] = (SCP, RCP), units: Sequence[OrgUnit] | None = None) -> Inventory:
    if units is None:
        units = (OrgUnit(ROOT, "Root", "", "Root"), OrgUnit(OU_PROD, "Prod", ROOT, "Root/Prod"),
                 OrgUnit(OU_PAY, "Payments", OU_PROD, "Root/Prod/Payments"))
    return Inventory(ORG, MGMT, "aws", tuple(types), tuple(units), tuple(accounts), tuple(policies))


def full_access_everywhere(accounts: Sequence[Account]) -> OrgPolicy:
    targets = {t for a in accounts for t in a.chain}
    return policy("p-FullAWSAccess", SCP, FULL_ACCESS, sorted(targets), "FullAWSAccess")


def probe(action: str, region: str, *, acct: Account | None = None, facts: RoleFacts | None = None) -> Any:
    a = acct or account()
    inv = inventory([a], [])
    return probe_request(inv, a, facts or role(a.id), region, action)


def assume(region: str, *, acct: Account | None = None, facts: RoleFacts | None = None,
           datadog_account: str = DATADOG_US1) -> Any:
    from auditor.facts.sites import DatadogPrincipal

    a = acct or account()
    inv = inventory([a], [])
    return assume_role_request(inv, a, facts or role(a.id), region, DatadogPrincipal("x", "aws", datadog_account))


def empty_context() -> Context:
    return Context()


@dataclass(frozen=True)
class Judged:
    """The matrix's analysis with the region findings checks/regions.py words from its facts."""

    analysis: RegionAnalysis
    findings: tuple[Finding, ...]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.analysis, name)


def judged(analysis: RegionAnalysis, inv: Inventory) -> Judged:
    return Judged(analysis, tuple(matrix_findings(analysis, inv)))
