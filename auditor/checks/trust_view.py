"""The trust policy seen from Datadog's side: which statements trust, deny or ignore Datadog.

Built on the policy model (`auditor/policy/model.py`, parsed once by `policy/document.py`) and
shared by the principal/action checks (`trust.py`) and the external id checks (`external_id.py`).
Everything it renders masks the external ids (unless `show_external_ids`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from auditor.checks.context import RoleContext
from auditor.facts.sites import ALL_DATADOG_ACCOUNT_IDS, site_for_account_id
from auditor.policy.model import Principal, Statement
from auditor.policy.policy_json import load_policy_json
from auditor.secrets import mask_external_ids_in

ASSUME_ROLE = "sts:AssumeRole"
ASSUME_ACTIONS = ("sts:AssumeRole", "sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity")
EXTERNAL_ID = "sts:ExternalId"


@dataclass(frozen=True)
class TrustView:
    """The parsed policy, seen from Datadog's side."""

    statements: tuple[Statement, ...]
    named_expected: bool  # some statement names the expected Datadog principal
    target: Callable[[Principal], bool] | None  # Datadog's principal as the policy means it
    wildcard_statements: tuple[Statement, ...]  # Allow: anyone (or everyone but a few) may assume
    trusting: tuple[Statement, ...]  # Allow sts:AssumeRole to the target (or to anyone)
    denying: tuple[Statement, ...]  # unconditional Deny of sts:AssumeRole to the target
    wrong_found: tuple[Principal, ...]  # what the policy trusts instead of Datadog's expected account
    wrong_account: bool


def is_datadog(p: Principal) -> bool:
    return p.type == "AWS" and p.account in ALL_DATADOG_ACCOUNT_IDS


def expected_matcher(ctx: RoleContext) -> Callable[[Principal], bool]:
    def is_expected(p: Principal) -> bool:
        return (
            ctx.principal is not None
            and p.type == "AWS"
            and p.account == ctx.principal.account_id
            and p.partition in (None, ctx.partition)
        )

    return is_expected


def allow_principal(s: Statement) -> bool:
    return s.effect == "Allow" and not s.not_principal


def build_view(ctx: RoleContext, statements: tuple[Statement, ...]) -> TrustView:
    is_expected = expected_matcher(ctx)
    named_expected = any(is_expected(p) for s in statements for p in s.named)
    other_dd = [
        p for s in statements if allow_principal(s) for p in s.named if is_datadog(p) and not is_expected(p)
    ]
    target: Callable[[Principal], bool] | None
    if named_expected:
        target = is_expected
    elif other_dd:

        def target(p: Principal) -> bool:
            return is_datadog(p) and not is_expected(p)
    else:
        target = None

    wildcard_statements = tuple(
        s
        for s in statements
        if s.effect == "Allow"
        and any(s.allows(a) for a in ASSUME_ACTIONS)
        and (any(p.wildcard for p in s.named) != s.not_principal)
    )
    trusting = tuple(s for s in statements if allow_principal(s) and s.allows(ASSUME_ROLE) and reaches(target, s))
    denying = tuple(
        s
        for s in statements
        if s.effect == "Deny" and s.allows(ASSUME_ROLE) and not s.conditions and applies(target, s)
    )
    wrong_account = ctx.principal is None or (not named_expected and (bool(other_dd) or not wildcard_statements))
    wrong_found: tuple[Principal, ...] = ()
    if wrong_account:
        aws = [p for s in statements if allow_principal(s) for p in s.named if p.type == "AWS" and not p.wildcard]
        wrong_found = unique(other_dd or aws)
    return TrustView(
        statements, named_expected, target, wildcard_statements, trusting, denying, wrong_found, wrong_account
    )


def reaches(target: Callable[[Principal], bool] | None, s: Statement) -> bool:
    """The statement's Principal/NotPrincipal list covers Datadog's principal (or everyone)."""
    return any(p.wildcard or (target is not None and target(p)) for p in s.named)


def applies(target: Callable[[Principal], bool] | None, s: Statement) -> bool:
    """The statement applies to Datadog: it is named in Principal, or not excepted by NotPrincipal."""
    return reaches(target, s) != s.not_principal


def unique(principals: Sequence[Principal]) -> tuple[Principal, ...]:
    seen: dict[tuple[str, str], Principal] = {}
    for p in principals:
        seen.setdefault((p.type, p.value), p)
    return tuple(seen.values())


# --- evidence -----------------------------------------------------------------------------


def masked_statement(ctx: RoleContext, s: Statement) -> Any:
    """The statement as written, with its external ids masked (unless show_external_ids)."""
    return mask_external_ids_in(load_policy_json(s.raw), ctx.mask)


def evidence(ctx: RoleContext, statements: Sequence[Statement], **extra: Any) -> str:
    return json.dumps({**extra, "statements": {s.label: masked_statement(ctx, s) for s in statements}})


def describe_principal(p: Principal) -> str:
    if is_datadog(p):
        sites = ", ".join(site_for_account_id(p.account or ""))
        return f"{p.value} (Datadog's account for {sites})"
    return f"{p.type} {p.value}" if p.type != "AWS" else p.value


def expected_arn(ctx: RoleContext) -> str:
    return ctx.principal.arn if ctx.principal is not None else "(none)"
