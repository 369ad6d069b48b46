"""Trust policy checks: may Datadog's account, and only it, assume the role with the right external id?

The documented trust policy is one Allow statement naming `arn:<partition>:iam::<Datadog>:root`
for `sts:AssumeRole` under `StringEquals sts:ExternalId <id>`. Each check below names one way a
real policy departs from that, and says what it expected and what it found. `TRUST_CHECKS` lists
them; the external id checks live in `external_id.py`.
"""

from __future__ import annotations

import json

from auditor.checks.audited_role import AuditedRole, RoleCheck
from auditor.checks.catalogue import CheckId, finding
from auditor.checks.external_id import external_id_findings
from auditor.checks.trust_view import (
    ASSUME_ROLE,
    allow_principal,
    describe_principal,
    evidence,
    expected_arn,
    expected_matcher,
)
from auditor.facts.sites import DATADOG_ACCOUNT_BY_SITE
from auditor.model import Finding, Status
from auditor.policy.model import Principal, Statement


def _invalid(r: AuditedRole) -> list[Finding]:
    if r.role is None or r.trust_error is None:
        return []
    exc = r.trust_error
    return [
        finding(
            CheckId.TRUST_POLICY_INVALID,
            r.ctx.account,
            Status.FAIL,
            f"The trust policy of {r.role.arn} cannot be read: {exc}. Replace it with Datadog's documented "
            "trust policy.",
            evidence=json.dumps({"error": str(exc)}),
        )
    ]


def _wildcard(r: AuditedRole) -> list[Finding]:
    if (trusted := r.trusted()) is None:
        return []
    ctx, _, view = trusted
    if not view.wildcard_statements:
        return []
    parts = []
    for s in view.wildcard_statements:
        who = (
            f"everyone except the NotPrincipal {', '.join(p.value for p in s.named)}"
            if s.not_principal
            else 'any AWS principal ("*")'
        )
        limits = (
            f", limited only by conditions on {', '.join(sorted({c.key for c in s.conditions}))}"
            if s.conditions
            else " without any condition"
        )
        parts.append(f"{s.label} lets {who} assume the role{limits}")
    return [
        finding(
            CheckId.TRUST_PRINCIPAL_WILDCARD,
            ctx.account,
            Status.FAIL,
            "; ".join(parts) + f". Replace the principal with Datadog's account {expected_arn(ctx)}.",
            evidence=evidence(ctx, view.wildcard_statements),
        )
    ]


def _wrong_account(r: AuditedRole) -> list[Finding]:
    if (trusted := r.trusted()) is None:
        return []
    ctx, role, view = trusted
    if not view.wrong_account:
        return []
    found = "; ".join(describe_principal(p) for p in view.wrong_found) or "no AWS account principal"
    if ctx.principal is None:
        serving = [site for site, by_p in DATADOG_ACCOUNT_BY_SITE.items() if ctx.partition in by_p]
        detail = (
            f"{ctx.principal_problem}, so no Datadog principal can be trusted for this {ctx.partition} account. "
            f"The trust policy names: {found}. Datadog sites serving {ctx.partition}: {', '.join(serving) or 'none'}; "
            "check [datadog] site."
        )
    else:
        partition_note = ""
        if any(
            p.account == ctx.principal.account_id and p.partition not in (None, ctx.partition) for p in view.wrong_found
        ):
            partition_note = f" (an ARN in another partition; this account is in {ctx.partition})"
        detail = (
            f"The trust policy of {role.arn} must trust {ctx.principal.arn}, Datadog's account for site "
            f"{ctx.site} in partition {ctx.partition}, but it trusts {found}{partition_note}. "
            f'Set the Principal to {{"AWS": "{ctx.principal.arn}"}}.'
        )
    return [
        finding(
            CheckId.TRUST_PRINCIPAL_WRONG_ACCOUNT,
            ctx.account,
            Status.FAIL,
            detail,
            evidence=evidence(
                ctx,
                [s for s in view.statements if s.named],
                expected=expected_arn(ctx),
                found=[p.value for p in view.wrong_found],
            ),
        )
    ]


def _not_root(r: AuditedRole) -> list[Finding]:
    if (trusted := r.trusted()) is None:
        return []
    ctx, _, view = trusted
    if not view.named_expected or view.target is None:
        return []
    named = [(s, p) for s in view.statements if allow_principal(s) for p in s.named if view.target(p)]
    if not named or any(p.account_wide for _, p in named):
        return []
    shown = ", ".join(p.value for _, p in named)
    return [
        finding(
            CheckId.TRUST_PRINCIPAL_NOT_ROOT,
            ctx.account,
            Status.FAIL,
            f"The trust policy names {shown}: a principal inside Datadog's account, not the documented "
            f"{expected_arn(ctx)}. Datadog assumes the role from its own integration role, so AssumeRole fails "
            f'unless that is exactly the ARN Datadog uses. Set the Principal to {{"AWS": "{expected_arn(ctx)}"}}.',
            evidence=evidence(
                ctx,
                sorted({s for s, _ in named}, key=lambda s: s.index),
                expected=expected_arn(ctx),
                found=[p.value for _, p in named],
            ),
        )
    ]


def _extra(r: AuditedRole) -> list[Finding]:
    if (trusted := r.trusted()) is None:
        return []
    ctx, role, view = trusted
    is_expected = expected_matcher(ctx)
    reported = {(p.type, p.value) for p in view.wrong_found}
    extras: list[tuple[Statement, Principal]] = [
        (s, p)
        for s in view.statements
        if allow_principal(s) and s.allows(ASSUME_ROLE)
        for p in s.named
        if not p.wildcard and not is_expected(p) and (p.type, p.value) not in reported
    ]
    if not extras:
        return []
    shown = "; ".join(sorted({describe_principal(p) for _, p in extras}))
    return [
        finding(
            CheckId.TRUST_PRINCIPAL_EXTRA,
            ctx.account,
            Status.FAIL,
            f"Besides Datadog's {expected_arn(ctx)}, the trust policy of {role.arn} lets these principals "
            f"assume the role: {shown}. Remove them: the Datadog role should trust only Datadog.",
            evidence=evidence(
                ctx,
                sorted({s for s, _ in extras}, key=lambda s: s.index),
                extra=sorted({p.value for _, p in extras}),
            ),
        )
    ]


def _action_missing(r: AuditedRole) -> list[Finding]:
    if (trusted := r.trusted()) is None:
        return []
    ctx, role, view = trusted
    target = view.target
    if target is None or (view.trusting and not view.denying):
        return []
    naming = [s for s in view.statements if any(target(p) for p in s.named)]
    reasons = []
    for s in naming:
        if s in view.denying:
            continue
        if s.not_principal:
            reasons.append(f"{s.label} names Datadog in NotPrincipal ({s.effect} applies to everyone else)")
        elif s.effect == "Deny":
            reasons.append(f"{s.label} is a Deny for {', '.join(s.actions)}")
        elif not s.allows(ASSUME_ROLE):
            verb = "everything except" if s.not_action else "only"
            reasons.append(f"{s.label} allows {verb} {', '.join(s.actions)}")
    for s in view.denying:
        reasons.append(f"{s.label} denies sts:AssumeRole to Datadog without a condition")
    return [
        finding(
            CheckId.TRUST_ACTION_MISSING,
            ctx.account,
            Status.FAIL,
            f"No statement lets Datadog call sts:AssumeRole on {role.arn}: "
            + "; ".join(reasons)
            + '. Add an Allow of "sts:AssumeRole" for the Datadog principal and remove the Deny.',
            evidence=evidence(ctx, sorted(set(naming) | set(view.denying), key=lambda s: s.index)),
        )
    ]


# Every trust check, in the order their findings are reported (the external id ones last).
TRUST_CHECKS: tuple[RoleCheck, ...] = (
    _invalid, _wildcard, _wrong_account, _not_root, _extra, _action_missing, external_id_findings,
)
