"""The one context every role check reads: the account's settings, the role as read, its trust policy
read once.

A role check is a function `(AuditedRole) -> list[Finding]` that returns [] where it does not apply;
`checks/role.py` lists them in one tuple and runs them in order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from auditor.checks.context import RoleContext
from auditor.checks.trust_view import TrustView, build_view
from auditor.model import Finding, RequiredPermissions, RoleCandidate, RoleInfo
from auditor.policy.document import role_statements
from auditor.policy.model import PolicyError


@dataclass(frozen=True)
class AuditedRole:
    ctx: RoleContext
    role: RoleInfo | None  # None: no role of the name Datadog uses exists
    other_roles: tuple[RoleCandidate, ...]  # the account's other roles (near misses of a missing one)
    customer_documents: Mapping[str, str]  # customer-managed policy documents by ARN
    aws_managed_documents: Mapping[str, str]  # AWS-managed policy documents by ARN (fetched once per run)
    required: RequiredPermissions  # the permissions the role must allow (Datadog's list, or the probe actions)
    trust: TrustView | None  # None: no role, or its trust policy cannot be read (`trust_error`)
    trust_error: PolicyError | None = None

    @classmethod
    def of(cls, ctx: RoleContext, role: RoleInfo | None, *, other_roles: tuple[RoleCandidate, ...] = (),
           customer_documents: Mapping[str, str], aws_managed_documents: Mapping[str, str],
           required: RequiredPermissions) -> AuditedRole:
        trust, error = None, None
        if role is not None:
            try:
                trust = build_view(ctx, role_statements(role.trust_policy, trust=True))
            except PolicyError as exc:
                error = exc
        return cls(ctx, role, other_roles, customer_documents, aws_managed_documents, required, trust, error)

    def trusted(self) -> tuple[RoleContext, RoleInfo, TrustView] | None:
        """What a trust check reads, or None when there is no readable trust policy to check."""
        if self.role is None or self.trust is None:
            return None
        return self.ctx, self.role, self.trust


RoleCheck = Callable[[AuditedRole], list[Finding]]
