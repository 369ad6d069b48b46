"""What every role check of one account needs to know besides the role itself."""

from __future__ import annotations

from dataclasses import dataclass

from auditor.checks.secrets import mask_secret, visible
from auditor.facts.sites import DatadogPrincipal, datadog_principal
from auditor.model import Account, ExpectedValues


@dataclass(frozen=True)
class RoleContext:
    account: Account
    site: str
    partition: str
    role_name: str  # [datadog] role_name
    expected: ExpectedValues | None
    show_external_ids: bool
    principal: DatadogPrincipal | None  # None: the site has no Datadog account in the partition
    principal_problem: str = ""  # why `principal` is None

    @classmethod
    def build(
        cls,
        account: Account,
        *,
        site: str,
        partition: str,
        role_name: str,
        expected: ExpectedValues | None,
        show_external_ids: bool,
    ) -> RoleContext:
        try:
            principal, problem = datadog_principal(site, partition), ""
        except ValueError as exc:  # UnsupportedPartition, or a site the table does not know
            principal, problem = None, str(exc)
        return cls(account, site, partition, role_name, expected, show_external_ids, principal, problem)

    @property
    def expected_external_id(self) -> str | None:
        return self.expected.external_id if self.expected is not None else None

    def mask(self, secret: str) -> str:
        """A secret as reports may show it, invisible characters made visible."""
        return visible(mask_secret(secret, show=self.show_external_ids))
