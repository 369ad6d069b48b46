"""`auditor explain`: one account and region, level by level, as text a person can check.

For each probe action (SCP chain) and for Datadog's sts:AssumeRole (RCP chain): the condition
keys the chain's policies read, each with its class in that request (present and its value,
present with an unseen value, absent, unknown) and AWS's reason (request_keys.py); every level
from the root to the account, every policy attached there, every statement with whether it
applies and why, then the decision; last the region verdict the matrix gives. Pure. Every
line is shown through terminal.shown (control characters escaped).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from auditor.model import AccountSnapshot, Inventory
from auditor.policy.chain import Chain, Decision, LevelOutcome, StatementOutcome
from auditor.policy.context import Context, Presence
from auditor.policy.engine import Evaluator
from auditor.policy.glob import Var
from auditor.policy.matrix import NOT_ENABLED_REASON, region_cell
from auditor.policy.requests import ASSUME_ROLE, assume_role_request, probe_request, role_facts
from auditor.terminal import shown


class ExplainError(ValueError):
    """The account is not in the inventory (message names it)."""


def explain_region(
    inventory: Inventory,
    snapshots: Mapping[str, AccountSnapshot],
    *,
    account_id: str,
    region: str,
    actions: Sequence[str],
    site: str,
    role_name: str,
    access_keys: bool = False,
) -> str:
    """`access_keys`: Datadog reaches the account with an IAM user's access keys (no role)."""
    account = inventory.account(account_id)
    if account is None:
        raise ExplainError(f"account {account_id} is not in the run's inventory "
                           f"({len(inventory.accounts)} accounts)")
    snap = snapshots.get(account_id)
    role = role_facts(account, snap, inventory.partition, role_name, access_keys=access_keys)
    ev = Evaluator(inventory, site=site)
    lines = [
        f"Account {account.id} ({account.name}), {account.ou_path}, status {account.status}; region {region}",
        f"Organization {inventory.organization_id}, management account {inventory.management_account_id}, "
        f"partition {inventory.partition}",
        f"Datadog principal: {role.name}" if role.access_keys else
        f"Datadog role: {role.arn}" + (f" tags: {_tags(role.tags)}" if role.tags else " (no tags)"),
    ]
    if role.note:
        lines.append(f"Note: {role.note}")
    if snap is None:
        lines.append("Note: the account was not audited in this run (no snapshot); role facts are assumed.")
    elif snap.error is not None:
        lines.append(f"Note: the account could not be audited ({snap.error.stage}: {snap.error.code}); "
                     "role facts are assumed.")
    off = bool(snap and snap.region_opt_in and snap.region_opt_in.off((region,)))
    if off:
        lines.append(f"Note: {NOT_ENABLED_REASON}. What follows is what the policies would decide if the "
                     "account enabled it.")
    elif snap is not None and snap.region_opt_in is not None and snap.region_opt_in.error:
        lines.append(f"Note: the account's region opt-in status could not be read ({snap.region_opt_in.error}); "
                     "the region is judged as enabled.")
    view = ev.view(account, role)
    cell = region_cell(ev, view, region, actions)
    for action, decision in cell.probes:
        lines.append("")
        lines.append(f"== {action} called by the Datadog role session in {region}: SCPs ==")
        if not decision.exempt:
            lines += _key_lines(view.scp, probe_request(inventory, account, role, region, action).context)
        lines += _decision_lines(decision)
    lines.append("")
    who = f"Datadog's account {ev.datadog.account_id} (site {site})" if ev.datadog else \
        f"Datadog (no account for site {site} in {inventory.partition}: {ev.datadog_problem})"
    lines.append(f"== {ASSUME_ROLE} by {who} on {role.arn} via STS in {region}: RCPs ==")
    if not cell.rcp.exempt:
        lines.append("  (the built-in RCPFullAWSAccess sits at every level: only Deny statements decide)")
        lines += _key_lines(view.rcp, assume_role_request(inventory, account, role, region, ev.datadog).context)
    lines += _decision_lines(cell.rcp)
    v = cell.verdict
    lines.append("")
    if off:
        lines.append(f"Region verdict: not_applicable - {NOT_ENABLED_REASON}")
        return "\n".join(lines) + "\n"
    lines.append(f"Region verdict: {v.verdict.value}")
    if v.denied_actions:
        lines.append(f"  denied actions: {', '.join(v.denied_actions)}")
    if v.deciding_policies:
        lines.append(f"  deciding policies: {', '.join(v.deciding_policies)}")
    if v.unknown_keys:
        lines.append(f"  depends on keys the auditor cannot know: {', '.join(v.unknown_keys)}")
    # Names, Sids, tags and condition values are policy or account owners' text: each line is shown
    # escaped, so none can send a control sequence to the terminal or, with a newline, forge a line.
    return "\n".join(shown(line) for line in lines) + "\n"


def _key_lines(chain: Chain, ctx: Context) -> list[str]:
    """Each condition key the chain's policies read (conditions, policy variables): its class and why."""
    read: dict[str, str] = {}
    for lvl in chain.levels:
        for att in lvl.policies:
            for st in att.document.statements if att.document is not None else ():
                read.update((c.key_lc, c.key.strip()) for c in st.conditions)
                patterns = [*st.resource_patterns, *(p for c in st.conditions for p in c.patterns)]
                read.update((t.key, t.key) for p in patterns if p.has_vars for t in p.tokens if isinstance(t, Var))
    if not read:
        return ["  Request keys: the policies read no condition key"]
    out = ["  Request keys the policies read (class in this request - why):"]
    for key_lc, spelled in sorted(read.items()):
        look = ctx.lookup(key_lc)
        state = f"present, {ctx.describe(key_lc)}" if look.presence is Presence.PRESENT else ctx.describe(key_lc)
        why = ctx.why(key_lc)
        out.append(f"    {spelled}: {state}" + (f" - {why}" if why else ""))
    return out


def _tags(tags: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f"{k}={v}" for k, v in tags)


def _decision_lines(decision: Decision) -> list[str]:
    if decision.exempt:
        return [f"  Decision: {decision.outcome.upper()} - {decision.summary}"]
    out: list[str] = []
    for n, lv in enumerate(decision.levels, 1):
        out += _level_lines(n, lv, decision.kind)
    out.append(f"  Decision: {decision.outcome.upper()} - {decision.short}")
    if decision.unknown_keys:
        out.append(f"  Undecided because of: {', '.join(decision.unknown_keys)}")
    return out


def _level_lines(n: int, lv: LevelOutcome, kind: str) -> list[str]:
    head = f"  Level {n}: {lv.level.label}"
    if kind == "SCP":
        head += f" - some Allow here covers the request: {_yes_no(lv.allow.value)}"
    out = [head]
    if not lv.policies:
        out.append(f"    (no {kind} attached)")
    for pol in lv.policies:
        out.append(f"    {pol.attached.title}")
        for st in pol.statements:
            out.append(f"      {_statement_line(st)}")
    return out


def _statement_line(st: StatementOutcome) -> str:
    state = {True: "APPLIES", False: "does not apply", None: "MAY APPLY"}[st.truth.value]
    extra = f" [depends on {', '.join(sorted(st.truth.unknown))}]" if st.truth.unknown else ""
    return f"{st.effect} {st.label}: {state}{extra} - {st.truth.why}"


def _yes_no(value: bool | None) -> str:
    return {True: "yes", False: "NO", None: "unknown"}[value]
