"""External id checks: does the statement trusting Datadog require exactly the id Datadog sends?

Datadog sends the external id it shows for the account; the trust policy should accept that id
and nothing else (StringEquals, one value), and no condition Datadog's request cannot meet.
"""

from __future__ import annotations

import json
from dataclasses import replace

from auditor.checks.audited_role import AuditedRole
from auditor.checks.catalogue import CheckId, finding
from auditor.checks.context import RoleContext
from auditor.checks.secrets import describe_secret_difference
from auditor.checks.trust_view import ASSUME_ROLE, EXTERNAL_ID, TrustView, applies, evidence
from auditor.model import Finding, Status
from auditor.policy.conditions import evaluate_condition
from auditor.policy.context import Context
from auditor.policy.glob import glob_text_match
from auditor.policy.model import STRING_FAMILIES, Condition

# Condition keys whose positive test Datadog's request cannot pass: it comes from Datadog's own
# network and organization, without MFA, tags or a web identity.
_UNSATISFIABLE_KEYS = frozenset(
    {
        "aws:sourceip",
        "aws:vpcsourceip",
        "aws:sourcevpc",
        "aws:sourcevpce",
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:multifactorauthpresent",
        "aws:multifactorauthage",
    }
)
_UNSATISFIABLE_PREFIXES = (
    "aws:principaltag/",
    "aws:requesttag/",
    "saml:",
    "cognito-identity.amazonaws.com:",
    "accounts.google.com:",
    "graph.facebook.com:",
    "www.amazon.com:",
)
# Keys that Datadog satisfies only when they name its account.
_ACCOUNT_KEYS = frozenset({"aws:principalaccount", "aws:sourceaccount"})
_ARN_KEYS = frozenset({"aws:principalarn", "aws:sourcearn"})


def _accepts(c: Condition, value: str) -> bool | None:
    """Whether `value` as the external id passes condition `c`, by the evaluator's own rules (negation,
    IfExists, set qualifiers, Null, IgnoreCase); None when the operator is not a string test or the
    answer depends on what the auditor cannot know (a policy variable)."""
    if not c.string_test:
        return None
    return evaluate_condition(c, Context(values={c.key_lc: (value,)})).value


def _positive_values(c: Condition) -> tuple[str, ...]:
    return c.values if c.family in STRING_FAMILIES and not c.negated else ()


def _loose_external_id(c: Condition) -> list[str]:
    reasons = []
    if c.if_exists:
        reasons.append(f"{c.operator} also accepts a request without any external id")
    if c.qualifier == "ForAllValues":
        reasons.append(f"{c.operator} is true when the request has no external id")
    if c.family == "string_like" and any("*" in v or "?" in v for v in c.values):
        reasons.append(f"{c.operator} with a wildcard pattern accepts many external ids")
    if c.negated:
        reasons.append(f"{c.operator} accepts every external id except the listed one(s)")
    if c.family == "null":
        reasons.append("Null only tests that some external id is sent; any value passes")
    if not c.string_test:
        reasons.append(f"{c.operator} is not a string comparison")
    return reasons


def _unsatisfiable(c: Condition, ctx: RoleContext, view: TrustView) -> str | None:
    """Why Datadog's AssumeRole request cannot pass condition `c` (None when it can or may)."""
    if c.negated or c.family == "null":
        return None  # negated tests and presence tests are passed by a request from outside the listed set
    key = c.key.lower()
    if key in _UNSATISFIABLE_KEYS or key.startswith(_UNSATISFIABLE_PREFIXES):
        return f"{c.operator} {c.key} (Datadog's request comes from Datadog's own network and organization)"
    accounts = sorted(
        {p.account for s in view.trusting for p in s.named if p.account and view.target and view.target(p)}
    )
    if key in _ACCOUNT_KEYS | _ARN_KEYS and accounts:

        def names_account(v: str) -> bool:
            return any(a in v or glob_text_match(v, a) for a in accounts)

        if not any(names_account(v) for v in c.values):
            return f"{c.operator} {c.key} = {', '.join(c.values)} (Datadog's account is {', '.join(accounts)})"
    return None


def _deny_requirements(view: TrustView) -> tuple[Condition, ...]:
    """`Deny sts:AssumeRole if StringNotEquals sts:ExternalId X` is another way to require the id X."""
    out: list[Condition] = []
    for s in view.statements:
        if s.effect != "Deny" or not s.allows(ASSUME_ROLE) or not s.conditions or not applies(view.target, s):
            continue
        if all(c.key.lower() == EXTERNAL_ID.lower() and c.negated and c.family in STRING_FAMILIES
               for c in s.conditions):
            out.extend(_positive(c) for c in s.conditions)
    return tuple(out)


def _positive(c: Condition) -> Condition:
    """The condition the Deny's negated one requires: StringNotLikeIfExists -> StringLike."""
    base = c.base.replace("Not", "", 1)
    return replace(c, operator=base, base=base, negated=False, qualifier="", if_exists=False)


def external_id_findings(r: AuditedRole) -> list[Finding]:
    if (trusted := r.trusted()) is None:
        return []
    ctx, role, view = trusted
    if not view.trusting:
        return []
    required = _deny_requirements(view)
    per_statement = [(s, s.conditions_on(EXTERNAL_ID) + required) for s in view.trusting]
    out: list[Finding] = []

    missing = [s for s, conds in per_statement if not conds]
    if missing:
        out.append(
            finding(
                CheckId.TRUST_EXTERNAL_ID_MISSING,
                ctx.account,
                Status.FAIL,
                f"{', '.join(s.label for s in missing)} of the trust policy of {role.arn} lets Datadog assume the "
                "role without an sts:ExternalId condition, so any Datadog customer could point Datadog at this role "
                '(confused deputy). Add "Condition": {"StringEquals": {"sts:ExternalId": "<the external id '
                'Datadog shows for this account>"}}.',
                evidence=evidence(ctx, missing),
            )
        )

    loose: list[str] = []
    for s, conds in per_statement:
        for c in conds:
            loose.extend(f"{s.label}: {r}" for r in _loose_external_id(c))
        for c in s.conditions:
            reason = None if c.key.lower() == EXTERNAL_ID.lower() else _unsatisfiable(c, ctx, view)
            if reason:
                loose.append(f"{s.label}: Datadog cannot satisfy the condition {reason}")
    accepted = sorted({v for _, conds in per_statement for c in conds for v in _positive_values(c)})
    if len(accepted) > 1:
        loose.append(
            f"the policy accepts {len(accepted)} different external ids ({', '.join(ctx.mask(v) for v in accepted)}); "
            "a stale id was probably left behind"
        )
    if loose:
        out.append(
            finding(
                CheckId.TRUST_EXTERNAL_ID_LOOSE,
                ctx.account,
                Status.FAIL,
                "; ".join(_dedupe(loose)) + ". Keep exactly one StringEquals sts:ExternalId condition with the id "
                "Datadog shows, and no other condition.",
                evidence=evidence(ctx, view.trusting, accepted_external_ids=[ctx.mask(v) for v in accepted]),
            )
        )

    expected = ctx.expected_external_id
    with_id = [(s, conds) for s, conds in per_statement if conds]
    if expected is None:
        if with_id:
            out.append(
                finding(
                    CheckId.EXTERNAL_ID_NOT_COMPARED,
                    ctx.account,
                    Status.ERROR,
                    "The trust policy's sts:ExternalId could not be compared with the id Datadog shows for this "
                    "account: no expected values are available (set [datadog] expected_values to csv or "
                    "datadog_api).",
                    evidence=json.dumps({"found": [ctx.mask(v) for v in accepted]}),
                )
            )
        return out
    if missing or any(all(_accepts(c, expected) is not False for c in conds) for _, conds in with_id):
        return out  # some statement accepts Datadog's id (or needs none: reported above)
    difference = f"; {describe_secret_difference(expected, accepted[0])}" if len(accepted) == 1 else ""
    found = ", ".join(ctx.mask(v) for v in accepted) or "(none)"
    out.append(
        finding(
            CheckId.TRUST_EXTERNAL_ID_MISMATCH,
            ctx.account,
            Status.FAIL,
            f"The trust policy of {role.arn} accepts the external id {found}"
            f" but Datadog uses {ctx.mask(expected)} for this account{difference}. Make them equal: put the id "
            "Datadog shows into the sts:ExternalId condition, or correct Datadog's copy if it is the wrong one.",
            evidence=evidence(
                ctx,
                [s for s, _ in with_id],
                expected=ctx.mask(expected),
                found=[ctx.mask(v) for v in accepted],
            ),
        )
    )
    return out


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
