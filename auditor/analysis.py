"""Pure analysis: collected data in, findings + region matrix + exclusions out.

No AWS, no clock: the same inputs (e.g. a saved inventory.json) give the same result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from auditor.checks import role_findings
from auditor.checks.datadog_regions import with_datadog_regions
from auditor.checks.datadog_side import datadog_findings
from auditor.config import Config
from auditor.model import (
    AccountSnapshot,
    Exclusion,
    ExpectedValues,
    Finding,
    Inventory,
    RegionVerdict,
    Verdict,
)
from auditor.policy.matrix import RegionAnalysis, evaluate_regions


def analyze(
    inventory: Inventory,
    snapshots: Mapping[str, AccountSnapshot],
    *,
    cfg: Config,
    regions: Sequence[str],
    expected: Mapping[str, ExpectedValues],
    aws_managed_documents: Mapping[str, str],
    extra_findings: Sequence[Finding] = (),
    datadog_inventory_complete: bool = False,
    policies_unread: str = "",
) -> tuple[list[Finding], list[RegionVerdict], list[Exclusion]]:
    """`policies_unread`: why the SCPs and RCPs are not known (""): then no region is judged."""
    findings: list[Finding] = list(extra_findings)
    for account_id, snap in snapshots.items():
        account = inventory.account(account_id)
        assert account is not None, f"snapshot for unknown account {account_id}"
        findings.extend(
            role_findings(
                account,
                snap,
                site=cfg.datadog.site,
                partition=inventory.partition,
                role_name=cfg.datadog.role_name,
                expected=expected.get(account_id),
                probe_actions=cfg.regions.probe_actions,
                aws_managed_documents=aws_managed_documents,
                show_external_ids=cfg.datadog.show_external_ids,
            )
        )
    if policies_unread:
        matrix = _unjudged(inventory, regions, policies_unread)
    else:
        # The evaluator also applies "a policy type not enabled at the root has no effect".
        matrix = evaluate_regions(
            inventory,
            snapshots,
            regions=regions,
            probe_actions=cfg.regions.probe_actions,
            site=cfg.datadog.site,
            role_name=cfg.datadog.role_name,
            exclude_partial=cfg.regions.exclude_partial,
            access_key_accounts=[a for a, e in expected.items() if e.uses_access_keys],
        )
    exclusions = {e.account_id: e for e in matrix.exclusions}
    by_account: dict[str, list[RegionVerdict]] = {}
    for v in matrix.verdicts:
        by_account.setdefault(v.account_id, []).append(v)
    # Where Datadog's region setting is known, a denied region is judged against it: one finding
    # per problem (checks/datadog_regions.py). With a CSV it is not known and the matrix's stand.
    findings.extend(with_datadog_regions(matrix.findings, inventory, expected, exclusions, by_account, regions))
    # Only the Datadog API lists every account Datadog monitors: with a CSV, an account the
    # file leaves out is not evidence that Datadog does not monitor it.
    if datadog_inventory_complete:
        findings.extend(
            datadog_findings(
                inventory,
                tuple(snapshots),
                expected,
                exclusions,
                tuple(regions),
                partition=inventory.partition,
                report_unmonitored=cfg.datadog.report_unmonitored_accounts,
                verdicts=by_account,
            )
        )
    return findings, list(matrix.verdicts), list(matrix.exclusions)


def _unjudged(inventory: Inventory, regions: Sequence[str], why: str) -> RegionAnalysis:
    """The region matrix when the organization's policies are not known: every cell says so, and
    there is no exclusion list (an empty one would read as "exclude nothing")."""
    reason = f"not judged: {why}"
    verdicts = tuple(RegionVerdict(a.id, r, Verdict.NOT_APPLICABLE, reason=reason)
                     for a in inventory.accounts for r in regions)
    return RegionAnalysis(verdicts, (), ())
