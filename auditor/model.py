"""The domain: what the auditor collects, decides and reports.

Every object is a frozen dataclass. The pipeline passes them forward (collect -> analyse ->
report) and never mutates them, so an analysis can be redone from a saved inventory.
Raw policy documents are kept as the JSON text AWS returned: parsing belongs to `policy/`,
which turns a bad document into a finding instead of a crash at collection time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

# --- Organization inventory (collected once per run from the management account) -------

SCP = "SERVICE_CONTROL_POLICY"
RCP = "RESOURCE_CONTROL_POLICY"


@dataclass(frozen=True)
class OrgUnit:
    """A root or an organizational unit. The root has `parent_id == ""`."""

    id: str
    name: str
    parent_id: str
    path: str  # "Root/Prod/Payments"


@dataclass(frozen=True)
class Account:
    id: str
    name: str
    email: str
    status: str  # ACTIVE | SUSPENDED | PENDING_CLOSURE | CLOSED (Organizations' State/Status)
    parent_id: str  # the OU (or root) that holds the account
    ou_path: str  # "Root/Prod/Payments"
    # Target ids from the root down to the account itself: the SCP/RCP chain levels.
    chain: tuple[str, ...]

    @property
    def active(self) -> bool:
        return self.status == "ACTIVE"


@dataclass(frozen=True)
class OrgPolicy:
    id: str
    name: str
    type: str  # SCP | RCP
    aws_managed: bool
    description: str
    content: str  # the policy JSON exactly as DescribePolicy returned it
    targets: tuple[str, ...]  # ids of roots, OUs and accounts it is attached to


@dataclass(frozen=True)
class Inventory:
    organization_id: str
    management_account_id: str
    partition: str  # "aws", "aws-us-gov", "aws-cn"
    enabled_policy_types: tuple[str, ...]  # SCP / RCP when enabled at the root
    units: tuple[OrgUnit, ...]
    accounts: tuple[Account, ...]
    policies: tuple[OrgPolicy, ...]

    def account(self, account_id: str) -> Account | None:
        return self._accounts_by_id.get(account_id)

    @cached_property
    def _accounts_by_id(self) -> dict[str, Account]:
        # Built once on first use: per-account lookups over 10,000 accounts stay O(1).
        # (cached_property stores in __dict__, which a frozen dataclass still allows.)
        return {a.id: a for a in self.accounts}


# --- Per-account role data (collected in the fan-out) ----------------------------------


@dataclass(frozen=True)
class ManagedPolicyRef:
    name: str
    arn: str


@dataclass(frozen=True)
class InlinePolicy:
    name: str
    document: str  # JSON text


@dataclass(frozen=True)
class RoleCandidate:
    """Any role of the account, as ListRoles returns it: used to find near misses."""

    name: str
    path: str
    arn: str
    trust_policy: str  # JSON text


@dataclass(frozen=True)
class RoleInfo:
    """The Datadog integration role as found in the account."""

    name: str
    path: str
    arn: str
    trust_policy: str  # JSON text of AssumeRolePolicyDocument
    tags: tuple[tuple[str, str], ...]
    attached_policies: tuple[ManagedPolicyRef, ...]
    inline_policies: tuple[InlinePolicy, ...]
    created: str = ""  # ISO 8601
    permissions_boundary_arn: str = ""


@dataclass(frozen=True)
class AccountError:
    """Why an account could not be (fully) audited: the AWS error code and message."""

    stage: str  # "assume_role" | "read_role" | "list_roles" | "timeout" | ...
    code: str
    message: str


@dataclass(frozen=True)
class RegionOptIn:
    """Which regions the account has enabled, as ec2:DescribeRegions (AllRegions) tells it: read once
    per account. Only the regions it has *not* enabled are kept (opt-in regions it has not opted
    into): the list is short, and every other region is usable."""

    not_enabled: tuple[str, ...] = ()  # sorted region names
    # Why the status is unknown ("" when it was read): every audited region then counts as enabled.
    error: str = ""

    def off(self, regions: Sequence[str]) -> tuple[str, ...]:
        """Those of `regions` the account has not enabled, in their order."""
        if not self.not_enabled:
            return ()
        off = set(self.not_enabled)
        return tuple(r for r in regions if r in off)


@dataclass(frozen=True)
class AccountSnapshot:
    """Everything read inside one account. `role is None` and `error is None`: no role."""

    account_id: str
    role: RoleInfo | None
    other_roles: tuple[RoleCandidate, ...] = ()
    # Documents of customer-managed policies attached to the role, by ARN (JSON text).
    managed_policy_documents: tuple[tuple[str, str], ...] = ()
    error: AccountError | None = None
    api_calls: int = 0
    # None: not read (the account could not be assumed, or a run from before the status was read).
    region_opt_in: RegionOptIn | None = None


# --- Results -------------------------------------------------------------------------


class Status(StrEnum):
    FAIL = "fail"
    PASS = "pass"
    ERROR = "error"


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {
    Severity.CRITICAL: 4,
    Severity.HIGH: 3,
    Severity.MEDIUM: 2,
    Severity.LOW: 1,
    Severity.INFO: 0,
}


@dataclass(frozen=True)
class Finding:
    account_id: str
    check: str  # a stable id from checks/catalogue.py
    severity: Severity
    status: Status
    title: str
    detail: str
    remediation: str
    region: str = ""
    account_name: str = ""
    ou_path: str = ""
    evidence: str = ""  # what the check saw (statement, value), secrets masked
    change: str = ""  # new | open | resolved (run-over-run), "" when not compared

    @property
    def key(self) -> str:
        """Stable identity across runs: the same problem in the same place."""
        return f"{self.account_id}|{self.check}|{self.region}"


class Verdict(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"
    PARTIAL = "partial"
    INDETERMINATE = "indeterminate"
    NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True)
class RegionVerdict:
    account_id: str
    region: str
    verdict: Verdict
    denied_actions: tuple[str, ...] = ()
    deciding_policies: tuple[str, ...] = ()  # policy ids
    unknown_keys: tuple[str, ...] = ()  # condition keys that made it indeterminate
    reason: str = ""


@dataclass(frozen=True)
class Exclusion:
    account_id: str
    exclude: tuple[str, ...]  # regions to exclude in Datadog
    include_only: tuple[str, ...]  # audited regions minus excluded ones and ones not enabled
    # Audited regions the account has not enabled: in neither list (nothing to collect, nothing denied).
    not_enabled: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExpectedValues:
    """What Datadog holds for an account (CSV file or Datadog API)."""

    account_id: str
    role_name: str | None = None
    external_id: str | None = None
    partition: str | None = None
    regions_include_all: bool | None = None
    regions_include_only: tuple[str, ...] = ()
    source: str = ""
    datadog_config_id: str = ""  # Datadog's id of the account config (API source): needed to PATCH it
    # Datadog reaches the account with an IAM user's access keys instead of a role (`auth_config` holds
    # `access_key_id`). Only the key id is kept: the secret key is never read.
    access_key_id: str | None = None
    # Datadog's further account configs for the same AWS account (API source), in Datadog's order: the
    # values above are the first config's. Non-empty: which config Datadog uses is not for the auditor
    # to guess, so nothing is sent to any of them (datadog_account_duplicated says to keep one).
    other_config_ids: tuple[str, ...] = ()

    @property
    def uses_access_keys(self) -> bool:
        return bool(self.access_key_id)


@dataclass(frozen=True)
class RunInfo:
    started_at: str  # ISO 8601 UTC
    finished_at: str
    tool_version: str
    config_digest: str
    caller_arn: str = ""
    complete: bool = True
    incomplete_reason: str = ""  # why `complete` is false (interrupted, run deadline), "" when complete
    api_calls: tuple[tuple[str, int], ...] = ()  # "service.Operation" -> count
    compared_with: str = ""  # run folder name the findings' `change` was computed against


@dataclass(frozen=True)
class RequiredPermissions:
    """The IAM permissions the Datadog role is checked against, and which list they come from."""

    source: str  # "datadog": Datadog's published standard list | "probe_actions": [regions] probe_actions
    actions: tuple[str, ...]  # entries, wildcards allowed ("dynamodb:List*")
    reason: str = ""  # with "probe_actions": why Datadog's list was not used ("" when not asked)

    @property
    def from_datadog(self) -> bool:
        return self.source == "datadog"


@dataclass(frozen=True)
class AnalysisSettings:
    """The settings an analysis depends on, saved so it can be redone or explained offline."""

    site: str
    role_name: str
    probe_actions: tuple[str, ...]
    exclude_partial: bool
    required_permissions: RequiredPermissions | None = None  # the list the role checks used


@dataclass(frozen=True)
class AuditResult:
    run: RunInfo
    inventory: Inventory
    audited_regions: tuple[str, ...]
    snapshots: tuple[AccountSnapshot, ...]
    findings: tuple[Finding, ...]
    regions: tuple[RegionVerdict, ...] = ()
    exclusions: tuple[Exclusion, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()  # (account id, reason): out of scope, suspended
    expected: tuple[ExpectedValues, ...] = field(default=())
    # AWS-managed policy documents read once per run (ARN, JSON text).
    aws_managed_documents: tuple[tuple[str, str], ...] = ()
    settings: AnalysisSettings | None = None
