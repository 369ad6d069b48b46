"""Datadog's AWS accounts per site and partition: the principal a trust policy must name.

Source: Datadog's CloudFormation templates, mapping `DdAccountIdBySite`
(see ../shared/DESIGN.md). This is the only copy of the table in the code base.
"""

from __future__ import annotations

from dataclasses import dataclass

# site -> {partition: Datadog account id}
DATADOG_ACCOUNT_BY_SITE: dict[str, dict[str, str]] = {
    "datadoghq.com": {"aws": "464622532012"},
    "us3.datadoghq.com": {"aws": "464622532012"},
    "us5.datadoghq.com": {"aws": "464622532012"},
    "datadoghq.eu": {"aws": "464622532012"},
    "ap1.datadoghq.com": {"aws": "417141415827"},
    "ap2.datadoghq.com": {"aws": "412381753143"},
    "uk1.datadoghq.com": {"aws": "117348461845"},
    "ddog-gov.com": {"aws": "392588925713", "aws-us-gov": "065115117704"},
    "us2.ddog-gov.com": {"aws": "382742775718", "aws-us-gov": "486737091498"},
}

SITES: tuple[str, ...] = tuple(DATADOG_ACCOUNT_BY_SITE)

# Every account id Datadog uses on any site: a trust policy naming one of these is a
# Datadog trust, even when it is the wrong one for the configured site.
ALL_DATADOG_ACCOUNT_IDS: frozenset[str] = frozenset(
    acct for by_partition in DATADOG_ACCOUNT_BY_SITE.values() for acct in by_partition.values()
)

DEFAULT_ROLE_NAME = "DatadogIntegrationRole"
LEGACY_ROLE_NAME = "DatadogAWSIntegrationRole"
INTEGRATION_POLICY_NAMES = ("DatadogAWSIntegrationPolicy", "DatadogAWSIntegrationPolicyV2")


class UnsupportedPartition(ValueError):
    """The site has no Datadog account in that partition (e.g. US1 in GovCloud)."""


@dataclass(frozen=True)
class DatadogPrincipal:
    site: str
    partition: str
    account_id: str

    @property
    def arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:root"


def datadog_principal(site: str, partition: str) -> DatadogPrincipal:
    """The principal that must be trusted for `site` in `partition`."""
    try:
        by_partition = DATADOG_ACCOUNT_BY_SITE[site]
    except KeyError:
        raise ValueError(f"unknown Datadog site {site!r}; known: {', '.join(SITES)}") from None
    try:
        return DatadogPrincipal(site, partition, by_partition[partition])
    except KeyError:
        raise UnsupportedPartition(
            f"Datadog site {site} has no AWS account in partition {partition!r}"
            f" (it serves: {', '.join(by_partition)})"
        ) from None


def site_for_account_id(account_id: str) -> tuple[str, ...]:
    """Sites whose Datadog account is `account_id` (to name the site a wrong principal is for)."""
    return tuple(
        site for site, by_p in DATADOG_ACCOUNT_BY_SITE.items() if account_id in by_p.values()
    )
