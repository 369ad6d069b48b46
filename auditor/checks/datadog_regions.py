"""Region findings as Datadog really is: a region the organization denies is a problem only where
Datadog collects from it.

The region matrix judges the organization's policies alone (scp_region_denied, rcp_assume_role_denied,
region_indeterminate). When Datadog's region setting for an account is known (the Datadog API source),
this module rewrites those findings against it, so one problem is reported once:

- a region to drop (denied, or partial with [regions] exclude_partial) that Datadog collects is the one
  failing `datadog_regions_include_denied` of the account (checks/datadog_side.py): it names the regions,
  what denies each, and the corrected include_only;
- scp_region_denied and rcp_assume_role_denied `pass` when Datadog already leaves out every region they
  deny, and are not reported while the drop finding covers them; scp_region_denied still fails for a
  region whose calls SCPs deny in part, that Datadog collects and the run keeps (exclude_partial off):
  dropping it is not the proposed fix, exempting the role is;
- region_indeterminate fails only for undecided regions Datadog collects, and passes when Datadog
  leaves them all out.

Without Datadog's setting (CSV source, an account Datadog does not monitor) the matrix's findings stand.
Pure.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from auditor.checks.catalogue import CheckId, finding
from auditor.model import Account, Exclusion, ExpectedValues, Finding, Inventory, RegionVerdict, Status, Verdict
from auditor.policy.requests import ASSUME_ROLE

REWRITTEN = frozenset({CheckId.SCP_REGION_DENIED, CheckId.RCP_ASSUME_ROLE_DENIED, CheckId.REGION_INDETERMINATE})


def collected_regions(ev: ExpectedValues, audited: Sequence[str]) -> frozenset[str] | None:
    """The audited regions Datadog collects from, or None when its setting is not known."""
    if ev.regions_include_all is None:
        return None
    if ev.regions_include_all:
        return frozenset(audited)
    return frozenset(ev.regions_include_only) & frozenset(audited)


def with_datadog_regions(
    findings: Sequence[Finding],
    inventory: Inventory,
    expected: Mapping[str, ExpectedValues],
    exclusions: Mapping[str, Exclusion],
    verdicts: Mapping[str, Sequence[RegionVerdict]],
    audited: Sequence[str],
) -> list[Finding]:
    """`findings` with the region-policy findings of every account whose Datadog regions are known
    rewritten as the module docstring says (others untouched, order kept)."""
    out: list[Finding] = []
    done: set[str] = set()
    present: dict[str, set[str]] = {}
    for f in findings:
        if f.check in REWRITTEN:
            present.setdefault(f.account_id, set()).add(f.check)
    for f in findings:
        if f.check not in REWRITTEN:
            out.append(f)
            continue
        ev = expected.get(f.account_id)
        collected = collected_regions(ev, audited) if ev is not None else None
        account = inventory.account(f.account_id)
        if collected is None or account is None or f.account_id not in exclusions:
            out.append(f)
            continue
        if f.account_id in done:
            continue
        done.add(f.account_id)
        out += _rewritten(inventory, account, collected, exclusions[f.account_id],
                          verdicts.get(f.account_id, ()), present[f.account_id])
    return out


def _rewritten(inventory: Inventory, account: Account, collected: frozenset[str], exclusion: Exclusion,
               verdicts: Sequence[RegionVerdict], present: set[str]) -> list[Finding]:
    dropped = set(exclusion.exclude)
    scp = [v for v in verdicts if _scp_denied(v)]
    rcp = [v for v in verdicts if ASSUME_ROLE in v.denied_actions]
    undecided = [v for v in verdicts if v.verdict is Verdict.INDETERMINATE or v.unknown_keys]
    out: list[Finding] = []
    if CheckId.SCP_REGION_DENIED in present and scp:
        kept = [v for v in scp if v.region in collected and v.region not in dropped]
        if kept:
            out.append(finding(
                CheckId.SCP_REGION_DENIED, account, Status.FAIL,
                f"SCPs deny some of the Datadog role's calls in {len(kept)} region(s) Datadog collects from and "
                f"the run keeps ([regions] exclude_partial = false): {_denied_rows(kept)}. "
                f"Deciding policies: {_names(inventory, kept)}. Exempt the role in those SCPs, or exclude the "
                "region(s).",
                evidence=f"{kept[0].region}: {kept[0].reason}"))
        elif not {v.region for v in scp} & collected:
            out.append(_left_out(CheckId.SCP_REGION_DENIED, account, "SCPs deny the Datadog role's calls in", scp))
    if CheckId.RCP_ASSUME_ROLE_DENIED in present and rcp and not {v.region for v in rcp} & collected:
        out.append(_left_out(CheckId.RCP_ASSUME_ROLE_DENIED, account,
                             "RCPs deny Datadog's sts:AssumeRole on the role in", rcp))
    if CheckId.REGION_INDETERMINATE in present and undecided:
        open_rows = [v for v in undecided if v.region in collected]
        if open_rows:
            keys = sorted({k for v in open_rows for k in v.unknown_keys})
            out.append(finding(
                CheckId.REGION_INDETERMINATE, account, Status.FAIL,
                f"Undecided in {len(open_rows)} region(s) Datadog collects from: "
                f"{', '.join(v.region for v in open_rows)}; the answer depends on {', '.join(keys)}. "
                f"Policies involved: {_names(inventory, open_rows)}.",
                evidence=f"{open_rows[0].region}: {open_rows[0].reason}"))
        else:
            out.append(_left_out(CheckId.REGION_INDETERMINATE, account,
                                 "Whether organization policies let Datadog work is undecided in", undecided))
    return out


def _scp_denied(v: RegionVerdict) -> bool:
    return any(a != ASSUME_ROLE for a in v.denied_actions)


def _left_out(check: CheckId, account: Account, what: str, rows: Sequence[RegionVerdict]) -> Finding:
    regions = [v.region for v in rows]
    return finding(
        check, account, Status.PASS,
        f"{what} {len(regions)} region(s): {', '.join(regions)}; Datadog already leaves them out "
        "(its include_only does not list them).",
        evidence=json.dumps({"denied_by_organization": regions, "collected_by_datadog": []}))


def _denied_rows(rows: Sequence[RegionVerdict]) -> str:
    return "; ".join(f"{v.region} ({', '.join(a for a in v.denied_actions if a != ASSUME_ROLE)})" for v in rows)


def _names(inventory: Inventory, rows: Sequence[RegionVerdict]) -> str:
    titles = {p.id: f"{p.name} ({p.id})" for p in inventory.policies}
    ids = dict.fromkeys(p for v in rows for p in v.deciding_policies)
    return ", ".join(titles.get(i, i) for i in ids) or "none named"


def why_denied(inventory: Inventory, verdict: RegionVerdict) -> str:
    """What denies Datadog in one region, for the drop finding: RCP and/or SCP, and the policies."""
    parts = []
    if ASSUME_ROLE in verdict.denied_actions:
        parts.append("an RCP denies sts:AssumeRole")
    probes = [a for a in verdict.denied_actions if a != ASSUME_ROLE]
    if probes:
        parts.append(f"SCPs deny {', '.join(probes)}")
    names = _names(inventory, [verdict])
    return f"{' and '.join(parts) or verdict.verdict.value}: {names}"
