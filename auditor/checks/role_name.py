"""Role name checks: the role is missing, or the name Datadog was given is not the role's name.

Datadog builds `arn:<partition>:iam::<account>:role/<name it was given>`, so a stray space, a
zero-width character, another letter case or a missing/extra path makes AssumeRole fail with
the same "not authorized" message as a bad trust policy. These checks say which it is.
"""

from __future__ import annotations

import json

from auditor.checks.audited_role import AuditedRole
from auditor.checks.catalogue import CheckId, finding
from auditor.checks.context import RoleContext
from auditor.checks.secrets import describe_invisible, quoted, remove_invisible
from auditor.facts.sites import (
    ALL_DATADOG_ACCOUNT_IDS,
    DEFAULT_ROLE_NAME,
    LEGACY_ROLE_NAME,
    site_for_account_id,
)
from auditor.model import Finding, RoleCandidate, Status
from auditor.policy.document import role_statements
from auditor.policy.model import PolicyError


def arn_name(name: str, path: str) -> str:
    """What follows `:role/` in the role's ARN: the path without its leading slash, then the name."""
    return (path or "/").lstrip("/") + name


def describe_name_difference(given: str, name: str, path: str) -> str | None:
    """How the name Datadog was given differs from the role (`name`, `path`); None when it matches."""
    full = arn_name(name, path)
    if given == full:
        return None
    problems = describe_invisible(given)
    cleaned = remove_invisible(given)
    if cleaned == full:
        pass
    elif cleaned.casefold() == full.casefold():
        problems.append("the letter case differs")
    elif cleaned.lstrip("/").casefold() == full.casefold():
        problems.append(f"it starts with a slash: give Datadog {quoted(full)}")
    elif cleaned.casefold() == name.casefold() and full != name:
        case = "" if cleaned == name else " (and the letter case differs)"
        problems.append(
            f"the role has path {path!r}, so its ARN ends in role/{full}, but Datadog builds role/{cleaned}: "
            f"give Datadog {quoted(full)}{case}"
        )
    elif "/" in cleaned and cleaned.rsplit("/", 1)[1].casefold() == name.casefold():
        problems.append(
            f"Datadog was given the path {quoted(cleaned.rsplit('/', 1)[0] + '/')} but the role's path is "
            f"{path!r}: give Datadog {quoted(full)}"
        )
    else:
        problems.append("it is a different name")
    return f"Datadog was given {quoted(given)} but the role's ARN ends in {quoted('role/' + full)}: " + "; ".join(
        problems
    )


def given_role_name(ctx: RoleContext) -> str:
    """The name Datadog holds for the account, else the configured `[datadog] role_name`."""
    if ctx.expected is not None and ctx.expected.role_name is not None:
        return ctx.expected.role_name
    return ctx.role_name


def name_findings(r: AuditedRole) -> list[Finding]:
    ctx, role = r.ctx, r.role
    if role is None:
        return []
    given = given_role_name(ctx)
    from_datadog = ctx.expected is not None and ctx.expected.role_name is not None
    difference = describe_name_difference(given, role.name, role.path)
    if difference is None:
        return []
    source = (
        f"Datadog's settings ({ctx.expected.source or 'expected values'})"
        if from_datadog and ctx.expected
        else "[datadog] role_name"
    )
    return [
        finding(
            CheckId.ROLE_NAME_MISMATCH,
            ctx.account,
            Status.FAIL,
            f"{difference}. The name comes from {source}; Datadog's AssumeRole on "
            f"{quoted(f'arn:{ctx.partition}:iam::{ctx.account.id}:role/{given}')} fails.",
            evidence=json.dumps({"given": given, "role_name": role.name, "role_path": role.path, "role_arn": role.arn}),
        )
    ]


def missing_role_findings(r: AuditedRole) -> list[Finding]:
    if r.role is not None:
        return []
    ctx, candidates = r.ctx, r.other_roles
    looked_for = sorted({ctx.role_name, given_role_name(ctx)})
    near = _near_misses(looked_for, candidates)
    shown = " or ".join(quoted(n) for n in looked_for)
    detail = f"No IAM role named {shown} exists in the account ({len(candidates)} other roles listed)."
    if near:
        detail += f" Near misses (see role_name_mismatch): {', '.join(quoted(c.name) for c, _ in near)}."
    out = [
        finding(
            CheckId.ROLE_MISSING,
            ctx.account,
            Status.FAIL,
            detail,
            evidence=json.dumps({"looked_for": looked_for, "roles_listed": len(candidates)}),
        )
    ]
    if near:
        lines = [f"role {quoted(c.name)} ({c.arn}): {', '.join(reasons)}" for c, reasons in near]
        out.append(
            finding(
                CheckId.ROLE_NAME_MISMATCH,
                ctx.account,
                Status.FAIL,
                f"No role {shown} exists, but the account has "
                + "; ".join(lines)
                + ". Give Datadog that role's name (with its path) or rename the role.",
                evidence=json.dumps(
                    {
                        "looked_for": looked_for,
                        "candidates": [{"name": c.name, "arn": c.arn, "why": r} for c, r in near],
                    }
                ),
            )
        )
    return out


def _near_misses(looked_for: list[str], candidates: tuple[RoleCandidate, ...]) -> list[tuple[RoleCandidate, list[str]]]:
    out = []
    for cand in candidates:
        reasons = _same_name_reasons(looked_for, cand)
        if cand.name in (LEGACY_ROLE_NAME, DEFAULT_ROLE_NAME) and cand.name not in looked_for and not reasons:
            which = "the old default" if cand.name == LEGACY_ROLE_NAME else "the default"
            reasons.append(f"{which} Datadog role name")
        trusted = _datadog_accounts_trusted(cand.trust_policy)
        if trusted:
            reasons.append(
                "its trust policy trusts Datadog account "
                + ", ".join(f"{acct} ({'/'.join(site_for_account_id(acct))})" for acct in trusted)
            )
        if reasons:
            out.append((cand, reasons))
    return out


def _same_name_reasons(looked_for: list[str], cand: RoleCandidate) -> list[str]:
    """How `cand` is the role looked for apart from invisible characters, letter case or path."""
    full = arn_name(cand.name, cand.path)
    reasons = []
    for name in looked_for:
        cleaned = remove_invisible(name)
        if cleaned.casefold() not in (cand.name.casefold(), full.casefold()):
            continue
        bits = []
        if cleaned != name:
            bits.append("without its invisible characters")
        if cleaned not in (cand.name, full):
            bits.append("in another letter case")
        if cand.path != "/" and cleaned.casefold() == cand.name.casefold():
            bits.append(f"under path {cand.path}")
        reasons.append(f"same name as {quoted(name)}" + (f" {', '.join(bits)}" if bits else ""))
    return list(dict.fromkeys(reasons))


def _datadog_accounts_trusted(trust_policy: str) -> list[str]:
    try:
        statements = role_statements(trust_policy, trust=True)
    except PolicyError:
        return []
    found = {
        p.account
        for s in statements
        if s.effect == "Allow" and not s.not_principal
        for p in s.named
        if p.type == "AWS" and p.account in ALL_DATADOG_ACCOUNT_IDS
    }
    return sorted(a for a in found if a is not None)
