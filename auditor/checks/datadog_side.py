"""Checks that compare Datadog's AWS integration settings with the organization.

Pure: takes the inventory, what Datadog holds (ExpectedValues from the API) and the region
exclusions the region matrix produced; returns findings. The role name and external id
comparisons live in their own check modules.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence

from auditor.checks.catalogue import CheckId, finding
from auditor.checks.datadog_regions import why_denied
from auditor.checks.include_only import NO_REGION_LEFT, include_only_to_propose
from auditor.checks.include_only import REASON as NO_REGION_REASON
from auditor.model import (
    Account,
    Exclusion,
    ExpectedValues,
    Finding,
    Inventory,
    RegionVerdict,
    Severity,
    Status,
)
from auditor.policy.requests import ASSUME_ROLE


def datadog_findings(
    inventory: Inventory,
    audited_account_ids: Collection[str],
    expected: Mapping[str, ExpectedValues],
    exclusions: Mapping[str, Exclusion],
    audited_regions: Iterable[str],
    *,
    partition: str,
    report_unmonitored: bool,
    verdicts: Mapping[str, Sequence[RegionVerdict]] | None = None,
) -> list[Finding]:
    """Findings for every account Datadog or the organization knows that the two disagree on.

    `expected` must be Datadog's full list (the API source): an account absent from it is unmonitored.
    `verdicts` (the region matrix, by account) lets the regions finding say what denies each region.
    """
    audited = set(audited_account_ids)
    del audited_regions  # exclusions already hold the audited regions minus the denied ones
    out: list[Finding] = []
    for account_id in sorted(expected):
        ev = expected[account_id]
        account = inventory.account(account_id)
        if account is None or not account.active:
            out.append(_not_in_org(ev, account))
            continue
        if ev.other_config_ids:
            out.append(_duplicated(ev, account))
        if ev.partition and ev.partition != partition:
            out.append(
                finding(
                    CheckId.DATADOG_PARTITION_MISMATCH, account, Status.FAIL,
                    f"Datadog has partition {ev.partition!r}; the organization is in {partition!r}, "
                    "so Datadog builds the wrong role ARN.",
                    evidence=json.dumps({"datadog": ev.partition, "organization": partition}),
                )
            )
        exclusion = exclusions.get(account_id)
        if account_id in audited and exclusion is not None:
            denied_finding = _regions_include_denied(inventory, account, ev, exclusion,
                                                     (verdicts or {}).get(account_id, ()))
            if denied_finding is not None:
                out.append(denied_finding)
    if report_unmonitored:
        for account in sorted(inventory.accounts, key=lambda a: a.id):
            if account.active and account.id in audited and account.id not in expected:
                out.append(
                    finding(CheckId.DATADOG_ACCOUNT_MISSING, account, Status.FAIL,
                            "The account is active in the organization but Datadog does not monitor it.")
                )
    return out


def _configs(ev: ExpectedValues) -> tuple[str, ...]:
    """Every Datadog config id of the account, the one the run judged first."""
    return (ev.datadog_config_id, *ev.other_config_ids)


def _duplicated(ev: ExpectedValues, account: Account) -> Finding:
    configs = _configs(ev)
    return finding(
        CheckId.DATADOG_ACCOUNT_DUPLICATED, account, Status.FAIL,
        f"Datadog holds this account in {len(configs)} account configs ({', '.join(configs)}). The run judged "
        f"the first ({ev.datadog_config_id}); nothing is sent to any of them until one is left.",
        evidence=json.dumps({"kept": ev.datadog_config_id, "others": list(ev.other_config_ids)}),
    )


def _not_in_org(ev: ExpectedValues, account: Account | None) -> Finding:
    """One finding for a Datadog entry the organization does not hold active: every config of it goes,
    so a duplicate is named here rather than in a second finding saying to keep one."""
    if account is None:
        account = Account(
            id=ev.account_id, name="(not in organization)", email="", status="", parent_id="", ou_path="",
            chain=(),
        )
        detail = "Datadog monitors this account, but the organization has no such account (stale entry)."
    else:
        detail = f"Datadog monitors this account, but its status in the organization is {account.status}."
    evidence: dict[str, object] = {"datadog_config_id": ev.datadog_config_id}
    if ev.other_config_ids:
        detail += f" Datadog holds it in {len(_configs(ev))} account configs ({', '.join(_configs(ev))})."
        evidence["other_config_ids"] = list(ev.other_config_ids)
    return finding(CheckId.DATADOG_ACCOUNT_NOT_IN_ORG, account, Status.FAIL, detail, evidence=json.dumps(evidence))


def denied_in_datadog(ev: ExpectedValues, exclusion: Exclusion) -> tuple[str, ...]:
    """Regions the organization denies that Datadog's setting still includes (sorted)."""
    if ev.regions_include_all:
        return tuple(sorted(set(exclusion.exclude)))
    if ev.regions_include_all is None:
        return ()  # the source does not say which regions Datadog collects from
    return tuple(sorted(set(exclusion.exclude) & set(ev.regions_include_only)))


def proposed_include_only(
    ev: ExpectedValues, exclusion: Exclusion, *, allow_widen: bool = False
) -> tuple[str, ...]:
    """The include_only list Datadog should hold.

    From include_all: the run's list (audited regions minus denied ones). From include_only: the
    current list minus denied regions, so regions the run did not evaluate stay; with `allow_widen`
    the run's allowed regions that Datadog lacks are added too. Never a region the account has not
    enabled (an opt-in region it has not opted into).
    """
    excluded = set(exclusion.exclude) | set(exclusion.not_enabled)
    if ev.regions_include_all:
        return tuple(sorted(set(exclusion.include_only) - excluded))
    kept = set(ev.regions_include_only) - excluded
    if allow_widen:
        kept |= set(exclusion.include_only) - excluded
    return tuple(sorted(kept))


def regions_setting(ev: ExpectedValues) -> dict[str, object]:
    """Datadog's region setting in the API's own shape."""
    if ev.regions_include_all:
        return {"include_all": True}
    return {"include_only": list(ev.regions_include_only)}


def _regions_include_denied(inventory: Inventory, account: Account, ev: ExpectedValues, exclusion: Exclusion,
                            verdicts: Sequence[RegionVerdict]) -> Finding | None:
    """The account's one actionable region finding: the denied regions Datadog collects from, what denies
    each, and the corrected include_only. High when an RCP denies Datadog's sts:AssumeRole in one of them
    (Datadog's "not authorized to perform sts:AssumeRole"), as rcp_assume_role_denied is."""
    denied = denied_in_datadog(ev, exclusion)
    if not denied:
        return None
    proposed = include_only_to_propose(proposed_include_only(ev, exclusion))
    current = "all regions" if ev.regions_include_all else ", ".join(ev.regions_include_only)
    by_region = {v.region: v for v in verdicts}
    why = {r: why_denied(inventory, by_region[r]) for r in denied if r in by_region}
    shown = "; ".join(f"{r} ({why[r]})" if r in why else r for r in denied)
    left_out = [r for r in exclusion.exclude if r not in denied]
    fix = (
        f"Drop {', '.join(denied)}: corrected include_only: {', '.join(proposed)}."
        if proposed
        else f"Every region Datadog collects from is denied: there is no region left to include: {NO_REGION_REASON}."
    )
    rcp = any(ASSUME_ROLE in by_region[r].denied_actions for r in denied if r in by_region)
    return finding(
        CheckId.DATADOG_REGIONS_INCLUDE_DENIED, account, Status.FAIL,
        f"Datadog collects from {current}; the organization denies {shown}. {fix}"
        + (f" Already left out in Datadog: {', '.join(left_out)}." if left_out else ""),
        evidence=json.dumps({
            "current": regions_setting(ev),
            "denied": list(denied),
            "why": why,
            "proposed": {"include_only": list(proposed)} if proposed else NO_REGION_LEFT,
        }),
        severity=Severity.HIGH if rcp else None,
    )


def datadog_api_error_finding(message: str, *, management_account_id: str = "") -> Finding:
    """The run-level finding recorded when the Datadog API failed (the AWS audit still completes).

    `message` is the source's error value (datadog.api.failure_text: the endpoint, never the keys;
    an unexpected failure named by its type)."""
    account = Account(id=management_account_id, name="(Datadog API)", email="", status="", parent_id="",
                      ou_path="", chain=())
    return finding(CheckId.DATADOG_API_ERROR, account, Status.ERROR, message)
