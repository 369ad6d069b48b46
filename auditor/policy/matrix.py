"""The region matrix: for every audited account and region, may Datadog work there?

Per account and region: Datadog's `sts:AssumeRole` on the role against the account's RCP
chain, and each probe action of the role session against its SCP chain. The verdicts give
the region exclusion lists, and the facts the region findings are worded from (checks/regions.py):
per group of accounts, which regions are denied or undecided and by which policies; the policies
that could not be parsed; the accounts the matrix failed on. Pure.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from auditor.model import Account, AccountSnapshot, Exclusion, Inventory, RegionOptIn, RegionVerdict, Verdict
from auditor.policy.chain import DENIED, INDETERMINATE, Decision
from auditor.policy.engine import AccountView, Evaluator, split_on_account
from auditor.policy.requests import ASSUME_ROLE, RoleFacts, role_facts
from auditor.stop import STOP_REQUESTS

log = logging.getLogger("auditor")

# The reason of a region the account has not enabled (`auditor explain` says the same).
NOT_ENABLED_REASON = ("region not enabled for this account (an opt-in region it has not opted into, as "
                      "ec2:DescribeRegions says): nothing to collect there, nothing denied")



@dataclass(frozen=True)
class RegionFacts:
    """What the organization's policies do to Datadog in one group's row: what the region findings
    say, as data. One object is shared by every account of the group. An example is the first such
    region with its verdict's reason, cut at the owner's account id (join it with an account's id)."""

    regions: int  # regions judged
    probes: int  # probe actions asked in each region
    scp_denied: tuple[tuple[str, tuple[str, ...]], ...]  # (region, probe actions SCPs deny there)
    scp_policies: tuple[str, ...]  # the deciding SCPs' titles
    rcp_denied: tuple[str, ...]  # regions where RCPs deny sts:AssumeRole
    rcp_policies: tuple[str, ...]
    undecided: tuple[str, ...]  # regions left indeterminate, or decided despite unknown keys
    unknown_keys: tuple[str, ...]
    undecided_policies: tuple[str, ...]
    scp_example: tuple[str, tuple[str, ...]] = ("", ())
    rcp_example: tuple[str, tuple[str, ...]] = ("", ())
    undecided_example: tuple[str, tuple[str, ...]] = ("", ())
    note: str = ""  # what every region finding of the group adds (the accounts' region opt-in status)


@dataclass(frozen=True)
class MatrixFailure:
    """The matrix failed on one account's documents in a way nobody foresaw (that account is not judged)."""

    what: str
    error_type: str
    message: str


@dataclass(frozen=True)
class InvalidPolicy:
    """An organization policy the evaluator could not parse: the cells that depend on it are indeterminate."""

    policy_id: str
    title: str
    error: str
    targets: tuple[str, ...]


@dataclass(frozen=True)
class RegionAnalysis:
    verdicts: tuple[RegionVerdict, ...]
    exclusions: tuple[Exclusion, ...]
    # Per account, in inventory order: its group's facts, or why the matrix failed on it (the accounts
    # not judged for a reason known in advance are left out: their verdicts say why).
    judged: tuple[tuple[Account, RegionFacts | MatrixFailure], ...] = ()
    invalid_policies: tuple[InvalidPolicy, ...] = ()
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
    row fails in a way nobody foresaw is not judged either (a MatrixFailure: an `analysis_error`).
    `access_key_accounts`: accounts Datadog reaches with an IAM user's access keys (no role)."""
    access_keys = frozenset(access_key_accounts)
    inventory = ev.inventory
    verdicts: list[RegionVerdict] = []
    judged: list[tuple[Account, RegionFacts | MatrixFailure]] = []
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
        # Regions the account has not enabled are not judged: nothing runs there, nothing is denied.
        off = snap.region_opt_in.off(regions) if snap.region_opt_in is not None else ()
        note = opt_in_note(snap.region_opt_in, off)
        enabled = [r for r in regions if r not in off] if off else regions
        try:
            row = _row(ev, rows, account, snap, enabled, probe_actions, role_name, exclude_partial,
                       access_keys=account.id in access_keys, off=off, note=note)
        except STOP_REQUESTS as exc:
            why = f"not judged: {should_stop.interrupted(exc)}"
        except Exception as exc:  # one account's documents must never end the run
            log.error("account %s: the region matrix failed: %s", account.id, type(exc).__name__)
            judged.append((account, MatrixFailure("The region matrix", type(exc).__name__, str(exc))))
            why = f"not judged: analysis error ({type(exc).__name__})"
        if why:
            verdicts += [RegionVerdict(account.id, r, Verdict.NOT_APPLICABLE, reason=why) for r in regions]
            continue
        verdicts += _with_not_enabled(row.verdicts_for(account.id), account.id, regions, off)
        judged.append((account, row.facts))
        exclusions.append(Exclusion(account.id, row.exclusion.exclude, row.exclusion.include_only, off))
    return RegionAnalysis(tuple(verdicts), tuple(exclusions), tuple(judged), _invalid_policies(ev, inventory),
                          ev.requests, ev.evaluations)


def _row(ev: Evaluator, rows: dict[tuple[object, ...], _Row], account: Account, snap: AccountSnapshot,
         regions: Sequence[str], probe_actions: Sequence[str], role_name: str, exclude_partial: bool,
         *, access_keys: bool, off: tuple[str, ...], note: str) -> _Row:
    """The account's region row over `regions` (the ones it has enabled): its group's, computed by the
    group's first account. `access_keys`: Datadog reaches the account with an IAM user's access keys,
    not the role; `off`, `note`: the regions it has not enabled, and what the findings say of them."""
    view = ev.view(account, role_facts(account, snap, ev.inventory.partition, role_name, access_keys=access_keys))
    key = (view.group, off, note)
    row = rows.get(key)
    if row is None:
        cells = [region_cell(ev, view, r, probe_actions) for r in regions]
        row = rows[key] = _Row.of(ev, account.id, cells, regions, exclude_partial, note)
    else:
        ev.requests += len(regions) * (len(probe_actions) + 1)
    return row


@dataclass(frozen=True)
class _Row:
    """One group's region row, with its texts cut at the owner's account id."""

    owner: str
    verdicts: tuple[tuple[RegionVerdict, tuple[str, ...]], ...]  # verdict, reason template
    facts: RegionFacts
    exclusion: Exclusion

    @classmethod
    def of(cls, ev: Evaluator, owner: str, cells: Sequence[RegionCell], regions: Sequence[str],
           exclude_partial: bool, note: str = "") -> _Row:
        verdicts = tuple((c.verdict, tuple(split_on_account(c.verdict.reason, owner))) for c in cells)
        return cls(owner, verdicts, _facts(ev, owner, cells, note),
                   exclusion_for(owner, [c.verdict for c in cells], regions, exclude_partial))

    def verdicts_for(self, account_id: str) -> list[RegionVerdict]:
        if account_id == self.owner:
            return [v for v, _ in self.verdicts]
        return [RegionVerdict(account_id, v.region, v.verdict, v.denied_actions, v.deciding_policies, v.unknown_keys,
                              account_id.join(template)) for v, template in self.verdicts]


def opt_in_note(status: RegionOptIn | None, off: Sequence[str]) -> str:
    """What the account's region findings add about its opt-in status ("" when there is nothing to say).
    Only the error's code: AWS's message differs per request, and the text is shared by a group."""
    if status is not None and status.error:
        code = status.error.split(":", 1)[0]
        return (f" The account's region opt-in status could not be read (ec2:DescribeRegions: {code}): every "
                "audited region was judged as enabled.")
    if off:
        return (f" Regions not enabled for this account (opt-in regions it has not opted into; not judged, not in "
                f"include_only): {', '.join(off)}.")
    return ""


def _with_not_enabled(judged: list[RegionVerdict], account_id: str, regions: Sequence[str],
                      off: Sequence[str]) -> list[RegionVerdict]:
    """The account's verdicts in audit order: the judged ones, and not_applicable where it has not enabled
    the region."""
    if not off:
        return judged
    by_region = {v.region: v for v in judged}
    return [by_region.get(r) or RegionVerdict(account_id, r, Verdict.NOT_APPLICABLE, reason=NOT_ENABLED_REASON)
            for r in regions]


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


def _policy_titles(ev: Evaluator, ids: Sequence[str]) -> tuple[str, ...]:
    return tuple(ev.org.attached[i].title if i in ev.org.attached else i for i in dict.fromkeys(ids))


def _facts(ev: Evaluator, owner: str, cells: Sequence[RegionCell], note: str) -> RegionFacts:
    """The facts of the row `cells` (the owner's account id cut out of the examples); `note`: what the
    findings add about the regions not judged (opt_in_note)."""
    scp: list[RegionCell] = []
    rcp: list[RegionCell] = []
    undecided: list[RegionVerdict] = []
    for c in cells:
        if any(d.outcome == DENIED for _, d in c.probes):
            scp.append(c)
        if c.rcp.outcome == DENIED:
            rcp.append(c)
        if c.verdict.verdict is Verdict.INDETERMINATE or c.verdict.unknown_keys:
            undecided.append(c.verdict)

    def example(v: RegionVerdict) -> tuple[str, tuple[str, ...]]:
        return v.region, tuple(split_on_account(v.reason, owner))

    return RegionFacts(
        regions=len(cells),
        probes=len(cells[0].probes) if cells else 0,
        scp_denied=tuple((c.verdict.region, tuple(a for a, d in c.probes if d.outcome == DENIED)) for c in scp),
        scp_policies=_policy_titles(ev, [p for c in scp for _, d in c.probes if d.outcome == DENIED
                                         for p in d.deciding_policies]),
        rcp_denied=tuple(c.verdict.region for c in rcp),
        rcp_policies=_policy_titles(ev, [p for c in rcp for p in c.rcp.deciding_policies]),
        undecided=tuple(v.region for v in undecided),
        unknown_keys=tuple(sorted({k for v in undecided for k in v.unknown_keys})),
        undecided_policies=_policy_titles(ev, [p for v in undecided for p in v.deciding_policies]),
        scp_example=example(scp[0].verdict) if scp else ("", ()),
        rcp_example=example(rcp[0].verdict) if rcp else ("", ()),
        undecided_example=example(undecided[0]) if undecided else ("", ()),
        note=note,
    )


def _invalid_policies(ev: Evaluator, inventory: Inventory) -> tuple[InvalidPolicy, ...]:
    targets: dict[str, tuple[str, ...]] = {}
    for p in inventory.policies:
        targets.setdefault(p.id, tuple(p.targets))
    return tuple(InvalidPolicy(policy_id, ev.org.attached[policy_id].title, str(error), targets.get(policy_id, ()))
                 for policy_id, error in ev.org.errors.items())
