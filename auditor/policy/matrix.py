"""The region matrix: for every audited account and region, may Datadog work there?

Per account and region: Datadog's `sts:AssumeRole` on the role against the account's RCP
chain, and each probe action of the role session against its SCP chain. The verdicts give
the region exclusion lists and one finding per account and kind of problem. Pure.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from auditor.checks.catalogue import CheckSpec, finding, register
from auditor.model import (
    Account,
    AccountSnapshot,
    Exclusion,
    Finding,
    Inventory,
    RegionVerdict,
    Severity,
    Status,
    Verdict,
)
from auditor.policy.chain import DENIED, INDETERMINATE, Decision
from auditor.policy.engine import AccountView, Evaluator, split_on_account
from auditor.policy.requests import ASSUME_ROLE, RoleFacts, role_facts
from auditor.stop import STOP_REQUESTS

log = logging.getLogger("auditor")

SCP_REGION_DENIED = "scp_region_denied"
RCP_ASSUME_ROLE_DENIED = "rcp_assume_role_denied"
ORG_POLICIES_ALLOW = "org_policies_allow"
REGION_INDETERMINATE = "region_indeterminate"
POLICY_DOCUMENT_INVALID = "policy_document_invalid"
ANALYSIS_ERROR = "analysis_error"  # in the catalogue (checks/catalogue.py): the analysis at large uses it

register(
    CheckSpec(
        SCP_REGION_DENIED,
        Severity.MEDIUM,
        "Service control policies deny Datadog's calls in some regions",
        "Exclude these regions in Datadog's AWS integration (exclusions.json / datadog_patches.json in the "
        "run folder), or exempt the Datadog role in the deciding SCPs (e.g. ArnNotLike on aws:PrincipalArn). "
        "`auditor explain --run DIR --account ID --region R` shows the statements.",
    ),
    CheckSpec(
        RCP_ASSUME_ROLE_DENIED,
        Severity.HIGH,
        "A resource control policy denies Datadog's sts:AssumeRole on the integration role",
        "Exempt Datadog in the deciding RCP (e.g. a tag on the role that the RCP excludes, such as "
        "dp:exclude:identity=true, or Datadog's account id in aws:PrincipalAccount), or exclude the regions "
        "in Datadog. `auditor explain` shows the statements.",
    ),
    CheckSpec(
        ORG_POLICIES_ALLOW,
        Severity.INFO,
        "Organization policies let Datadog work in every audited region",
        "Nothing to do.",
    ),
    CheckSpec(
        REGION_INDETERMINATE,
        Severity.MEDIUM,
        "Whether organization policies let Datadog work in some regions could not be decided",
        "The deciding conditions use keys the auditor cannot know (named in the detail). Check those "
        "statements by hand with `auditor explain`, or exempt the Datadog role from them.",
    ),
    CheckSpec(
        POLICY_DOCUMENT_INVALID,
        Severity.MEDIUM,
        "An organization policy could not be parsed by the auditor",
        "Fix or report the policy text named in the detail; until then region verdicts that depend on it "
        "are indeterminate (it may allow or deny anything).",
    ),
)


@dataclass(frozen=True)
class RegionAnalysis:
    verdicts: tuple[RegionVerdict, ...]
    findings: tuple[Finding, ...]
    exclusions: tuple[Exclusion, ...]
    requests: int = 0  # decisions asked for
    evaluations: int = 0  # decisions computed (the rest came from the cache)


@dataclass(frozen=True)
class StopCheck:
    """Asked between accounts: `poll()` gives a reason to stop ("" to go on); `interrupted(exc)` turns
    a stop request caught on the way into the reason. Both come from the analysis."""

    poll: Callable[[], str]
    interrupted: Callable[[BaseException], str]


def _go_on() -> str:
    return ""


def _reraise(exc: BaseException) -> str:
    raise exc


NEVER_STOP = StopCheck(_go_on, _reraise)


def analysis_error(account: Account, what: str, exc: Exception) -> Finding:
    """A failure nobody foresaw while analysing one account: its finding, never the end of the run."""
    return finding(ANALYSIS_ERROR, account, Status.ERROR,
                   f"{what} failed on this account's documents ({type(exc).__name__}: {str(exc)[:300]}); "
                   "every other account was audited.", evidence=type(exc).__name__)


@dataclass(frozen=True)
class RegionCell:
    """One account x region, before it becomes a RegionVerdict."""

    verdict: RegionVerdict
    rcp: Decision
    probes: tuple[tuple[str, Decision], ...]


def evaluate_regions(
    inventory: Inventory,
    snapshots: Mapping[str, AccountSnapshot],
    *,
    regions: Sequence[str],
    probe_actions: Sequence[str],
    site: str,
    role_name: str,
    exclude_partial: bool,
    should_stop: StopCheck = NEVER_STOP,
    access_key_accounts: Collection[str] = (),
) -> RegionAnalysis:
    """`access_key_accounts`: accounts Datadog reaches with an IAM user's access keys (no role)."""
    # The matrix shows no statement's reasoning (`auditor explain` does): decisions without words are
    # cheaper and give the same verdicts, texts, findings and exclusions (tests/policy/test_words_free.py).
    return matrix_with(Evaluator(inventory, site=site, words=False), snapshots, regions=regions,
                       probe_actions=probe_actions, role_name=role_name, exclude_partial=exclude_partial,
                       should_stop=should_stop, access_key_accounts=access_key_accounts)


def matrix_with(
    ev: Evaluator,
    snapshots: Mapping[str, AccountSnapshot],
    *,
    regions: Sequence[str],
    probe_actions: Sequence[str],
    role_name: str,
    exclude_partial: bool,
    should_stop: StopCheck = NEVER_STOP,
    access_key_accounts: Collection[str] = (),
) -> RegionAnalysis:
    """`evaluate_regions` through `ev` (its inventory, site and wording). Once `should_stop` gives a
    reason, the accounts left are not judged (the rows already made are kept); an account whose
    row fails in a way nobody foresaw is not judged either, with an `analysis_error` finding.
    `access_key_accounts`: accounts Datadog reaches with an IAM user's access keys (no role)."""
    access_keys = frozenset(access_key_accounts)
    inventory = ev.inventory
    verdicts: list[RegionVerdict] = []
    findings: list[Finding] = list(_invalid_policy_findings(ev, inventory))
    exclusions: list[Exclusion] = []
    # Accounts of one group (same OU path, policies, role facts) share their whole row: it is
    # computed for the first one and reworded (account id in texts) for the others.
    rows: dict[tuple[object, ...], _Row] = {}
    for account in inventory.accounts:
        snap = snapshots.get(account.id)
        why = _not_audited(account, snap)
        if not why and (stopped := should_stop.poll()):
            why = f"not judged: {stopped}"
        if why:
            verdicts += [RegionVerdict(account.id, r, Verdict.NOT_APPLICABLE, reason=why) for r in regions]
            continue
        assert snap is not None
        try:
            row = _row(ev, rows, account, snap, regions, probe_actions, role_name, exclude_partial,
                       access_keys=account.id in access_keys)
        except STOP_REQUESTS as exc:
            why = f"not judged: {should_stop.interrupted(exc)}"
        except Exception as exc:  # one account's documents must never end the run
            log.error("account %s: the region matrix failed: %s", account.id, type(exc).__name__)
            findings.append(analysis_error(account, "The region matrix", exc))
            why = f"not judged: analysis error ({type(exc).__name__})"
        if why:
            verdicts += [RegionVerdict(account.id, r, Verdict.NOT_APPLICABLE, reason=why) for r in regions]
            continue
        verdicts += row.verdicts_for(account.id)
        findings += [finding(check, account, status, detail, evidence=account.id.join(evidence))
                     for check, status, detail, evidence in row.findings]
        exclusions.append(Exclusion(account.id, row.exclusion.exclude, row.exclusion.include_only))
    return RegionAnalysis(tuple(verdicts), tuple(findings), tuple(exclusions), ev.requests, ev.evaluations)


def _row(ev: Evaluator, rows: dict[tuple[object, ...], _Row], account: Account, snap: AccountSnapshot,
         regions: Sequence[str], probe_actions: Sequence[str], role_name: str, exclude_partial: bool,
         *, access_keys: bool) -> _Row:
    """The account's region row: its group's, computed by the group's first account. `access_keys`:
    Datadog reaches the account with an IAM user's access keys, not the role."""
    view = ev.view(account, role_facts(account, snap, ev.inventory.partition, role_name, access_keys=access_keys))
    row = rows.get(view.group)
    if row is None:
        cells = [region_cell(ev, view, r, probe_actions) for r in regions]
        row = rows[view.group] = _Row.of(ev, account.id, cells, regions, exclude_partial)
    else:
        ev.requests += len(regions) * (len(probe_actions) + 1)
    return row


@dataclass(frozen=True)
class _Row:
    """One group's region row, with its texts cut at the owner's account id."""

    owner: str
    verdicts: tuple[tuple[RegionVerdict, tuple[str, ...]], ...]  # verdict, reason template
    findings: tuple[tuple[str, Status, str, tuple[str, ...]], ...]  # check, status, detail, evidence template
    exclusion: Exclusion

    @classmethod
    def of(cls, ev: Evaluator, owner: str, cells: Sequence[RegionCell], regions: Sequence[str],
           exclude_partial: bool) -> _Row:
        verdicts = tuple((c.verdict, tuple(split_on_account(c.verdict.reason, owner))) for c in cells)
        plans = tuple((check, status, detail, tuple(split_on_account(evidence, owner)))
                      for check, status, detail, evidence in _finding_plans(ev, cells))
        return cls(owner, verdicts, plans, exclusion_for(owner, [c.verdict for c in cells], regions, exclude_partial))

    def verdicts_for(self, account_id: str) -> list[RegionVerdict]:
        if account_id == self.owner:
            return [v for v, _ in self.verdicts]
        return [RegionVerdict(account_id, v.region, v.verdict, v.denied_actions, v.deciding_policies, v.unknown_keys,
                              account_id.join(template)) for v, template in self.verdicts]


def _not_audited(account: Account, snap: AccountSnapshot | None) -> str:
    if not account.active:
        return f"account is {account.status}, not ACTIVE"
    if snap is None:
        return "account was not audited (out of scope or not reached)"
    if snap.error is not None:
        return f"account could not be audited ({snap.error.stage}: {snap.error.code})"
    return ""


def region_cell(ev: Evaluator, view: AccountView, region: str, actions: Sequence[str]) -> RegionCell:
    """The verdict of one account (prepared as `view`) in one region, with the decisions behind it."""
    account, role = view.account, view.role
    rcp = ev.assume_role_in(view, region)
    probes = tuple((a, ev.probe_in(view, region, a)) for a in actions)
    denied = [a for a, d in probes if d.outcome == DENIED]
    undecided = [a for a, d in probes if d.outcome == INDETERMINATE]
    allowed = [a for a, d in probes if d.outcome not in (DENIED, INDETERMINATE)]
    if rcp.outcome == DENIED:
        verdict, denied_actions = Verdict.DENIED, (ASSUME_ROLE, *denied)
    elif probes and len(denied) == len(probes):
        verdict, denied_actions = Verdict.DENIED, tuple(denied)
    elif rcp.outcome == INDETERMINATE or (undecided and not (denied and allowed)):
        verdict, denied_actions = Verdict.INDETERMINATE, tuple(denied)
    elif denied:
        # Some denied, some allowed: partial whatever the undecided ones turn out to be.
        verdict, denied_actions = Verdict.PARTIAL, tuple(denied)
    else:
        verdict, denied_actions = Verdict.ALLOWED, ()
    deciding: list[str] = []
    keys: list[str] = []
    if rcp.outcome in (DENIED, INDETERMINATE):
        deciding += rcp.deciding_policies
        keys += rcp.unknown_keys if rcp.outcome == INDETERMINATE else ()
    for _, d in probes:
        if d.outcome in (DENIED, INDETERMINATE):
            deciding += d.deciding_policies
            keys += d.unknown_keys if d.outcome == INDETERMINATE else ()
    reason = _reason(role, rcp, probes, verdict)
    return RegionCell(
        RegionVerdict(account.id, region, verdict, denied_actions, tuple(dict.fromkeys(deciding)),
                      tuple(sorted(set(keys))), reason),
        rcp,
        probes,
    )


def _reason(role: RoleFacts, rcp: Decision, probes: tuple[tuple[str, Decision], ...], verdict: Verdict) -> str:
    """One cell's why: which policy and statement decided, not the condition-by-condition trace
    (`auditor explain` prints that). Short and free of account ids, so the same text is shared
    by every account of a group: 10,000 accounts x 30 regions must fit in memory and a CSV cell.
    """
    parts = [role.note] if role.note else []
    if rcp.outcome != "allowed" or rcp.exempt:
        parts.append(f"RCP {ASSUME_ROLE} {rcp.outcome}: {rcp.short}")
    else:
        parts.append(f"RCP {ASSUME_ROLE} allowed")
    if verdict is Verdict.ALLOWED:
        exempt = next((d.summary for _, d in probes if d.exempt), "")
        parts.append(f"SCPs allow all {len(probes)} probe actions" + (f" ({exempt})" if exempt else ""))
    else:
        # Actions decided by the same statements share one explanation.
        groups: dict[tuple[str, str], list[tuple[str, Decision]]] = {}
        for action, d in probes:
            if d.outcome != "allowed":
                groups.setdefault((d.outcome, d.short), []).append((action, d))
        for (outcome, _), members in groups.items():
            actions = ", ".join(a for a, _ in members)
            first_action, first = members[0]
            shown = f" (reasoning for {first_action})" if len(members) > 1 else ""
            parts.append(f"{actions} {outcome}{shown}: {first.short}")
        allowed = [a for a, d in probes if d.outcome == "allowed"]
        if allowed:
            parts.append(f"allowed: {', '.join(allowed)}")
    return sys.intern(" | ".join(parts))


def exclusion_for(account_id: str, verdicts: Sequence[RegionVerdict], regions: Sequence[str],
                  exclude_partial: bool) -> Exclusion:
    """Denied (and, if asked, partial) regions out; the audited rest, in order, in."""
    by_region = {v.region: v.verdict for v in verdicts}
    out = {Verdict.DENIED, Verdict.PARTIAL} if exclude_partial else {Verdict.DENIED}
    exclude = tuple(r for r in regions if by_region.get(r) in out)
    return Exclusion(account_id, exclude, tuple(r for r in regions if r not in exclude))


def _policy_names(ev: Evaluator, ids: Sequence[str]) -> str:
    return ", ".join(ev.org.attached[i].title if i in ev.org.attached else i for i in dict.fromkeys(ids))


def _finding_plans(ev: Evaluator, cells: Sequence[RegionCell]) -> list[tuple[str, Status, str, str]]:
    """(check, status, detail, evidence) of the account whose row `cells` is."""
    out: list[tuple[str, Status, str, str]] = []
    scp_rows, rcp_rows, open_rows = [], [], []
    scp_ids: list[str] = []
    rcp_ids: list[str] = []
    for c in cells:
        denied_probes = [a for a, d in c.probes if d.outcome == DENIED]
        if denied_probes:
            everything = len(denied_probes) == len(c.probes)
            scp_rows.append(f"{c.verdict.region} ({'all probe actions' if everything else ', '.join(denied_probes)})")
            scp_ids += [p for a, d in c.probes if d.outcome == DENIED for p in d.deciding_policies]
        if c.rcp.outcome == DENIED:
            rcp_rows.append(c.verdict.region)
            rcp_ids += c.rcp.deciding_policies
        if c.verdict.verdict is Verdict.INDETERMINATE or c.verdict.unknown_keys:
            open_rows.append(c.verdict)
    if scp_rows:
        out.append((
            SCP_REGION_DENIED, Status.FAIL,
            f"SCPs deny the Datadog role's calls in {len(scp_rows)} region(s): {'; '.join(scp_rows)}. "
            f"Deciding policies: {_policy_names(ev, scp_ids)}.",
            _first_reason(cells, lambda c: any(d.outcome == DENIED for _, d in c.probes)),
        ))
    if rcp_rows:
        out.append((
            RCP_ASSUME_ROLE_DENIED, Status.FAIL,
            f"RCPs deny Datadog's sts:AssumeRole on the role in {len(rcp_rows)} region(s): "
            f"{', '.join(rcp_rows)}. Deciding policies: {_policy_names(ev, rcp_ids)}.",
            _first_reason(cells, lambda c: c.rcp.outcome == DENIED),
        ))
    if open_rows:
        keys = sorted({k for v in open_rows for k in v.unknown_keys})
        out.append((
            REGION_INDETERMINATE, Status.FAIL,
            f"Undecided in {len(open_rows)} region(s): {', '.join(v.region for v in open_rows)}; "
            f"the answer depends on {', '.join(keys)}. "
            f"Policies involved: {_policy_names(ev, [p for v in open_rows for p in v.deciding_policies])}.",
            f"{open_rows[0].region}: {open_rows[0].reason}",
        ))
    if not scp_rows and not rcp_rows:
        note = f" ({len(open_rows)} region(s) undecided, see {REGION_INDETERMINATE})" if open_rows else ""
        out.append((
            ORG_POLICIES_ALLOW, Status.PASS,
            f"No SCP or RCP denies Datadog in the {len(cells)} audited region(s){note}.",
            "",
        ))
    return out


def _first_reason(cells: Sequence[RegionCell], pick: Callable[[RegionCell], bool]) -> str:
    cell = next(c for c in cells if pick(c))
    return f"{cell.verdict.region}: {cell.verdict.reason}"


def _invalid_policy_findings(ev: Evaluator, inventory: Inventory) -> list[Finding]:
    if not ev.org.errors:
        return []
    mgmt = inventory.account(inventory.management_account_id) or Account(
        inventory.management_account_id, "management account", "", "ACTIVE", "", "Root", ())
    out = []
    for policy_id, error in ev.org.errors.items():
        att = ev.org.attached[policy_id]
        targets = next((p.targets for p in inventory.policies if p.id == policy_id), ())
        out.append(finding(
            POLICY_DOCUMENT_INVALID, mgmt, Status.ERROR,
            f"{error}. Attached to: {', '.join(targets) or 'nothing'}. The run went on: answers that depend on "
            f"{att.title} are indeterminate (it may allow or deny anything).",
            evidence=str(error),
        ))
    return out
