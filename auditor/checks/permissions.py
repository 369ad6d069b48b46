"""Role permission checks: do the role's own policies allow every permission Datadog needs?

The list is Datadog's published standard permission list when the run could read it, else the
configured probe actions (`RequiredPermissions` says which, and why). Only the role's identity
policies (inline and attached) and its permissions boundary are read here; organization policies
per region are the region matrix's job. A statement counts when it applies to every resource
(`"*"`), as Datadog's list/describe calls do. Conditions on an Allow are not evaluated (they are
region or tag tests the region matrix handles); an unconditional Deny removes what it names.

An entry with a wildcard (`dynamodb:List*`) is covered only when the policies allow every action
it can name, today's and the ones AWS adds later: decided exactly by `auditor.policy.action_cover`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from auditor.checks.catalogue import CheckId, finding
from auditor.checks.context import RoleContext
from auditor.model import Finding, RequiredPermissions, RoleInfo, Status
from auditor.policy.action_cover import (
    ActionSet,
    Undecided,
    has_wildcard,
    may_overlap,
    overlap_example,
    relevant,
    star_covers,
    uncovered_example,
)
from auditor.policy.document import role_statements
from auditor.policy.model import PolicyError, Statement, action_pattern_matches

SECURITY_AUDIT_SUFFIX = ":policy/SecurityAudit"
NAMED_IN_DETAIL = 20  # entries a detail names; the evidence lists them all


@dataclass(frozen=True)
class _Policy:
    label: str
    statements: tuple[Statement, ...] | None  # None: document unavailable or unreadable
    problem: str = ""


def probe_permissions(probe_actions: Sequence[str], reason: str = "") -> RequiredPermissions:
    return RequiredPermissions("probe_actions", tuple(probe_actions), reason)


def list_description(required: RequiredPermissions) -> str:
    """Which list the role was checked against, in the words of the findings."""
    if required.from_datadog:
        return f"Datadog's standard permission list ({len(required.actions)} entries)"
    text = f"the configured probe actions ([regions] probe_actions, {len(required.actions)} actions"
    return text + (f"; Datadog's list was not read: {required.reason})" if required.reason else ")")


def permission_findings(
    ctx: RoleContext,
    role: RoleInfo,
    *,
    customer_documents: Mapping[str, str],
    aws_managed_documents: Mapping[str, str],
    required: RequiredPermissions,
) -> list[Finding]:
    def document(arn: str) -> str | None:
        return customer_documents.get(arn, aws_managed_documents.get(arn))

    labelled: tuple[tuple[str, str | None], ...] = tuple(
        (f"inline policy {p.name}", p.document) for p in role.inline_policies)
    labelled += tuple((f"managed policy {p.name} ({p.arn})", document(p.arn)) for p in role.attached_policies)
    bounded = ((f"permissions boundary {role.permissions_boundary_arn}", document(role.permissions_boundary_arn))
               if role.permissions_boundary_arn else None)
    assessed = _assess(labelled, bounded, tuple(required.actions))
    policies, unavailable = assessed.policies, assessed.unavailable
    missing, unconfirmed = dict(assessed.missing), dict(assessed.unconfirmed)

    out: list[Finding] = []
    listed = list_description(required)
    shape = {"source": required.source, "entries": len(required.actions)}
    if missing:
        out.append(
            finding(
                CheckId.ROLE_PERMISSIONS_MISSING,
                ctx.account,
                Status.FAIL,
                f"The policies of {role.arn} do not allow {len(missing)} of the {len(required.actions)} permissions "
                f"of {listed}: {_named(missing)}. Attach Datadog's current DatadogAWSIntegrationPolicy (or add "
                "these permissions to it).",
                evidence=json.dumps({"missing": list(missing), "list": shape,
                                     "policies": [p.label for p in policies]}),
            )
        )
    if unconfirmed:
        remedies = []
        if unavailable:
            remedies.append("; ".join(f"{p.label}: {p.problem}" for p in unavailable)
                            + ". Grant the audit role iam:GetPolicy and iam:GetPolicyVersion, then rerun")
        if any(why.startswith(_UNDECIDED) for why in unconfirmed.values()):
            remedies.append("write the policy's action patterns more simply (fewer `?` and `*`), then rerun")
        out.append(
            finding(
                CheckId.ROLE_PERMISSIONS_UNVERIFIED,
                ctx.account,
                Status.ERROR,
                f"Could not confirm that {role.arn} allows {len(unconfirmed)} of the {len(required.actions)} "
                f"permissions of {listed}: {_named(unconfirmed)}. " + ". ".join(remedies) + ".",
                evidence=json.dumps({"unconfirmed": list(unconfirmed), "list": shape,
                                     "unavailable": [p.label for p in unavailable]}),
            )
        )
    return out


@dataclass(frozen=True)
class _Assessment:
    policies: tuple[_Policy, ...]
    unavailable: tuple[_Policy, ...]
    missing: tuple[tuple[str, str], ...]  # entry, why (certain)
    unconfirmed: tuple[tuple[str, str], ...]  # entry, why (not certain)


# Roles made from one template have the same documents in every account: the coverage of a
# permission list (up to ~12 ms of automata per role) is decided once per distinct set of documents.
@lru_cache(maxsize=512)
def _assess(labelled: tuple[tuple[str, str | None], ...], bounded: tuple[str, str | None] | None,
            actions: tuple[str, ...]) -> _Assessment:
    policies = tuple(_policy(label, doc) for label, doc in labelled)
    boundary = _policy(*bounded) if bounded is not None else None
    missing: dict[str, str] = {}
    unconfirmed: dict[str, str] = {}
    for entry in _entries(actions):
        why, certain = _why_not_covered(entry, list(policies), boundary)
        if why:
            (missing if certain else unconfirmed)[entry] = why
    unavailable = tuple(p for p in [*policies, boundary] if p is not None and p.statements is None)
    return _Assessment(policies, unavailable, tuple(missing.items()), tuple(unconfirmed.items()))


def _entries(actions: Sequence[str]) -> list[str]:
    """Each entry once (action names are case-insensitive), sorted as people read them."""
    first: dict[str, str] = {}
    for a in actions:
        first.setdefault(a.lower(), a)
    return sorted(first.values(), key=lambda a: (a.lower(), a))


def _named(reasons: Mapping[str, str]) -> str:
    shown = [f"{a} ({why})" for a, why in list(reasons.items())[:NAMED_IN_DETAIL]]
    more = len(reasons) - len(shown)
    return "; ".join(shown) + (f"; and {more} more (the evidence lists them all)" if more else "")


def security_audit_note(role: RoleInfo) -> str:
    """Informational only (never a failure): metrics work without SecurityAudit."""
    if any(p.arn.endswith(SECURITY_AUDIT_SUFFIX) for p in role.attached_policies):
        return ""
    return (
        " Note: SecurityAudit is not attached; Datadog's resource collection and Cloud Security Management"
        " need it (metrics do not)."
    )


def _policy(label: str, document: str | None) -> _Policy:
    if document is None:
        return _Policy(label, None, "document not available to the auditor")
    try:
        return _Policy(label, role_statements(document, trust=False))
    except PolicyError as exc:
        return _Policy(label, None, f"document cannot be read ({exc})")


def _covers_all_resources(s: Statement) -> bool:
    if s.not_resource:
        return not any(action_pattern_matches(r, "*") for r in s.resources)
    return any(action_pattern_matches(r, "*") for r in s.resources)


def _matches(s: Statement, action: str, effect: str) -> bool:
    # Action/NotAction as the evaluator reads them (Statement.action_matches, cached per statement).
    return s.effect == effect and _covers_all_resources(s) and s.action_matches(action)


def _why_not_allowed(action: str, policies: list[_Policy], boundary: _Policy | None) -> tuple[str, bool]:
    """("", True) when the policies allow `action`, else the reason and whether it is certain
    (an unreadable policy might hold the missing Allow, so its absence is then not certain)."""
    readable = [p for p in policies if p.statements is not None]
    some_unreadable = len(readable) < len(policies)
    for p in readable:
        for s in p.statements or ():
            if _matches(s, action, "Deny") and not s.conditions:
                return f"denied by {p.label} {s.label}", True
    if not any(_matches(s, action, "Allow") for p in readable for s in p.statements or ()):
        return (
            "no readable policy allows it" if some_unreadable else "no policy allows it",
            not some_unreadable,
        )
    if boundary is None:
        return "", True
    if boundary.statements is None:
        return f"the {boundary.label} could not be read", False
    if any(_matches(s, action, "Deny") and not s.conditions for s in boundary.statements):
        return f"denied by the {boundary.label}", True
    if not any(_matches(s, action, "Allow") for s in boundary.statements):
        return f"not allowed by the {boundary.label}", True
    return "", True


_UNDECIDED = "too many wildcard combinations"


def _why_not_covered(entry: str, policies: list[_Policy], boundary: _Policy | None) -> tuple[str, bool]:
    """("", True) when the policies allow every action `entry` names, else the reason and whether it
    is certain. An entry without wildcard is one action."""
    if not has_wildcard(entry):
        return _why_not_allowed(entry, policies, boundary)
    try:
        why, certain = _why_not_covered_whole(entry, policies, boundary)
    except Undecided:
        return f"{_UNDECIDED} in the policies to decide whether they allow all of it", False
    if not why and boundary is not None and boundary.statements is None:
        return f"the {boundary.label} could not be read", False
    return why, certain


def _why_not_covered_whole(entry: str, policies: list[_Policy], boundary: _Policy | None) -> tuple[str, bool]:
    readable = [p for p in policies if p.statements is not None]
    layers = [*readable, *([boundary] if boundary is not None and boundary.statements is not None else [])]
    for p in layers:
        for s in p.statements or ():
            if s.effect == "Deny" and not s.conditions and _covers_all_resources(s):
                part = _denied_part(entry, s)
                if part:
                    where = f"the {p.label}" if p is boundary else f"{p.label} {s.label}"
                    return f"{part} is denied by {where}", True
    required = [relevant(entry, _allow_sets(readable))]
    if boundary is not None and boundary.statements is not None:
        required.append(relevant(entry, _allow_sets([boundary])))
    if _quickly_covered(entry, required):
        return "", True
    example = uncovered_example(entry, tuple(required))
    if example is None:
        return "", True
    why, certain = _why_not_allowed(example, policies, boundary)
    if any(overlap_example(entry, a) for s in required[0] for a in s.patterns if not s.negated):
        return f"only part of it is allowed: {example} is {_not_allowed(why)}", certain
    return f"{why}, e.g. {example}", certain


def _not_allowed(why: str) -> str:
    """The reason after "<action> is": "not allowed by the ..." as it is, else "not allowed (<why>)"."""
    return why if why.startswith("not allowed") else f"not allowed ({why})"


def _allow_sets(policies: list[_Policy]) -> tuple[ActionSet, ...]:
    return tuple(ActionSet(s.actions, s.not_action) for p in policies for s in p.statements or ()
                 if s.effect == "Allow" and _covers_all_resources(s))


def _quickly_covered(entry: str, required: list[tuple[ActionSet, ...]]) -> bool:
    """Every layer has a plain `prefix*` pattern that covers the entry: the common case, no automaton."""
    return all(any(not s.negated and any(star_covers(a, entry) for a in s.patterns) for s in layer)
               for layer in required)


def _denied_part(entry: str, s: Statement) -> str:
    """The part of `entry` an unconditional Deny takes, in words ("" when none)."""
    if s.not_action:
        example = uncovered_example(entry, (relevant(entry, (ActionSet(s.actions),)),))
        return f"{example} (not in its NotAction)" if example is not None else ""
    return next((a for a in s.actions if may_overlap(a, entry) and overlap_example(entry, a) is not None), "")
