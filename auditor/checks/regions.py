"""Region findings: what the region matrix found about the organization's policies, in words.

The matrix (policy/matrix.py) judges every account x region and hands over plain facts per group
of accounts; the findings are worded here once per group and given to each account of it:

- scp_region_denied: SCPs deny the Datadog role's calls (all probe actions, or some) in some regions;
- rcp_assume_role_denied: RCPs deny Datadog's sts:AssumeRole on the role in some regions;
- region_indeterminate: the answer depends on condition keys the auditor cannot know;
- org_policies_allow (pass): neither SCPs nor RCPs deny Datadog in any audited region;
- policy_document_invalid (on the management account): a policy the evaluator could not parse;
- analysis_error: the matrix failed on an account's documents.

Where Datadog's own region setting is known, checks/datadog_regions.py then judges the first three
against it (`region_findings` does both). Pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from auditor.checks.analysis_error import analysis_error
from auditor.checks.catalogue import CheckId, finding
from auditor.checks.datadog_regions import with_datadog_regions
from auditor.model import Account, Exclusion, ExpectedValues, Finding, Inventory, RegionVerdict, Status
from auditor.policy.matrix import InvalidPolicy, MatrixFailure, RegionAnalysis, RegionFacts

# (check, status, detail, evidence example: region and reason template, or None for no evidence)
_Plan = tuple[CheckId, Status, str, tuple[str, tuple[str, ...]] | None]


def region_findings(matrix: RegionAnalysis, inventory: Inventory, expected: Mapping[str, ExpectedValues],
                    exclusions: Mapping[str, Exclusion], verdicts: Mapping[str, Sequence[RegionVerdict]],
                    audited: Sequence[str]) -> list[Finding]:
    """The matrix's findings, judged against Datadog's region setting where it is known (`exclusions` and
    `verdicts`: the matrix's, by account)."""
    return with_datadog_regions(matrix_findings(matrix, inventory), inventory, expected, exclusions, verdicts,
                                audited)


def matrix_findings(matrix: RegionAnalysis, inventory: Inventory) -> list[Finding]:
    """The region findings of the organization's policies alone, in inventory order (invalid policies first)."""
    out = [_invalid_policy(inventory, p) for p in matrix.invalid_policies]
    plans: dict[int, list[_Plan]] = {}  # by facts object: worded once per group of accounts
    for account, outcome in matrix.judged:
        if isinstance(outcome, MatrixFailure):
            out.append(analysis_error(account, outcome.what, outcome.error_type, outcome.message))
            continue
        plan = plans.get(id(outcome))
        if plan is None:
            plan = plans[id(outcome)] = _plans(outcome)
        out += [finding(check, account, status, detail, evidence=_evidence(account, example))
                for check, status, detail, example in plan]
    return out


def _evidence(account: Account, example: tuple[str, tuple[str, ...]] | None) -> str:
    if example is None:
        return ""
    region, reason = example
    return f"{region}: {account.id.join(reason)}"


def _plans(facts: RegionFacts) -> list[_Plan]:
    out: list[_Plan] = []
    if facts.scp_denied:
        rows = [f"{region} ({'all probe actions' if len(denied) == facts.probes else ', '.join(denied)})"
                for region, denied in facts.scp_denied]
        out.append((
            CheckId.SCP_REGION_DENIED, Status.FAIL,
            f"SCPs deny the Datadog role's calls in {len(rows)} region(s): {'; '.join(rows)}. "
            f"Deciding policies: {', '.join(facts.scp_policies)}.",
            facts.scp_example,
        ))
    if facts.rcp_denied:
        out.append((
            CheckId.RCP_ASSUME_ROLE_DENIED, Status.FAIL,
            f"RCPs deny Datadog's sts:AssumeRole on the role in {len(facts.rcp_denied)} region(s): "
            f"{', '.join(facts.rcp_denied)}. Deciding policies: {', '.join(facts.rcp_policies)}.",
            facts.rcp_example,
        ))
    if facts.undecided:
        out.append((
            CheckId.REGION_INDETERMINATE, Status.FAIL,
            f"Undecided in {len(facts.undecided)} region(s): {', '.join(facts.undecided)}; "
            f"the answer depends on {', '.join(facts.unknown_keys)}. "
            f"Policies involved: {', '.join(facts.undecided_policies)}.",
            facts.undecided_example,
        ))
    if not facts.scp_denied and not facts.rcp_denied:
        note = (f" ({len(facts.undecided)} region(s) undecided, see {CheckId.REGION_INDETERMINATE})"
                if facts.undecided else "")
        out.append((
            CheckId.ORG_POLICIES_ALLOW, Status.PASS,
            f"No SCP or RCP denies Datadog in the {facts.regions} audited region(s){note}.",
            None,
        ))
    return [(check, status, detail + facts.note, example) for check, status, detail, example in out]


def _invalid_policy(inventory: Inventory, policy: InvalidPolicy) -> Finding:
    mgmt = inventory.account(inventory.management_account_id) or Account(
        inventory.management_account_id, "management account", "", "ACTIVE", "", "Root", ())
    return finding(
        CheckId.POLICY_DOCUMENT_INVALID, mgmt, Status.ERROR,
        f"{policy.error}. Attached to: {', '.join(policy.targets) or 'nothing'}. The run went on: answers that "
        f"depend on {policy.title} are indeterminate (it may allow or deny anything).",
        evidence=policy.error,
    )
