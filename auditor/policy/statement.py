"""Does one statement apply to one request? Action, Resource, Principal and Condition, AND-ed.

The action test is always definite; resource, principal and conditions may be unknown.
Every answer says why, in words a security engineer can check against the JSON.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from auditor.policy.conditions import ConditionMemo, evaluate_conditions, remembered, resolve_pattern
from auditor.policy.context import Context, Truth, all_of, any_of, false, negate, true, unknown
from auditor.policy.glob import Pattern, Var, can_match_with_prefix, glob_match, show
from auditor.policy.model import Condition, Principal, Statement, action_pattern_matches


@dataclass(frozen=True)
class RequestPrincipal:
    """Who calls. `None` fields are facts the auditor cannot know."""

    account: str | None
    arn: str | None  # for a role session: the role's ARN (with its path)
    service: str = ""  # set for an AWS service principal


@dataclass(frozen=True)
class ResourceScope:
    """`Resource: "*"` of a list/describe call: any resource of the service, region and account."""

    partition: str
    service: str
    region: str
    account: str

    @property
    def arn_prefixes(self) -> tuple[str, ...]:
        """ARN starts the call's resources may have: global resources leave region/account empty."""
        return tuple(f"arn:{self.partition}:{self.service}:{r}:{a}:"
                     for r in (self.region, "") for a in (self.account, ""))


@dataclass(frozen=True)
class Request:
    action: str
    resource: str | ResourceScope
    principal: RequestPrincipal
    context: Context


def statement_applies(stmt: Statement, req: Request, conditions: ConditionMemo | None = None) -> Truth:
    """Whether the statement covers the request (its Effect is the caller's business).

    `conditions`: a memo of condition answers, see `evaluate_conditions`."""
    if not stmt.action_matches(req.action):
        element = "NotAction lists" if stmt.not_action else "Action does not cover"
        return false(f"{element} {req.action}")
    if stmt.not_action:
        action_why = f"{req.action} is not in NotAction"
    else:
        pattern = next((a for a in stmt.actions if action_pattern_matches(a, req.action)), stmt.actions[0])
        action_why = f"Action {pattern!r} covers {req.action}"
    parts = [true(action_why), _resource(stmt, req), _principal(stmt, req)]
    if stmt.conditions:
        parts.append(evaluate_conditions(stmt.conditions, req.context, conditions))
    result = all_of(parts)
    why = "; ".join(p.why for p in parts if p.why)
    return Truth(result.value, why, result.unknown)


class StatementMemo:
    """`statement_applies` over many requests, each distinct answer computed once.

    An answer, words included, depends only on: the action; the resource, unless the request is a
    list call on "*" and every Resource is "*"; the caller, if there is a Principal element; and the
    context keys the statement reads (condition keys, policy variables). Requests alike in those
    share the answer: a statement that says nothing about regions is evaluated once for all of
    them. Below that, each condition's answer is remembered per value of its key (a region
    condition is evaluated once per region for every OU, action and account). Keyed by statement
    identity, so the memo keeps its statements alive.

    `words=False` (the region matrix, which never shows a statement's why): answers carry no why,
    and are keyed by what decides their value instead of by the values the words would quote.
    """

    def __init__(self, *, words: bool = True) -> None:
        self.words = words
        self._inputs: dict[int, _Inputs] = {}
        self._answers: dict[tuple[object, ...], Truth] = {}
        self._conditions: ConditionMemo = {}
        self._condition_values: dict[tuple[int, object], tuple[bool | None, frozenset[str]]] = {}

    def applies(self, stmt: Statement, req: Request) -> Truth:
        inputs = self._inputs.get(id(stmt))
        if inputs is None:
            inputs = self._inputs[id(stmt)] = _Inputs.of(stmt)
        key = self._key(inputs, req) if self.words else self._value_key(inputs, req)
        if key is None:
            return _NOT_COVERED
        answer = self._answers.get(key)
        if answer is None:
            answer = statement_applies(stmt, req, self._conditions)
            if not self.words:  # requests sharing this key may differ in what the words would quote
                answer = Truth(answer.value, "", answer.unknown)
            self._answers[key] = answer
        return answer

    def _key(self, inputs: _Inputs, req: Request) -> tuple[object, ...]:
        """Everything the answer and its words read."""
        lookup = req.context.lookup
        return (
            id(inputs.statement),
            req.action,
            req.resource if inputs.by_resource or not isinstance(req.resource, ResourceScope) else None,
            req.principal if inputs.by_principal else None,
            tuple(lookup(k) for k in inputs.keys),
        )

    def _value_key(self, inputs: _Inputs, req: Request) -> tuple[object, ...] | None:
        """Everything the answer's value (and unknown keys) depends on; None: the action is not covered.

        Given a covered action, the value is the AND of the Resource, Principal and Condition parts
        (the action part is then true whatever the action). A condition without policy variables reads
        only its key, so its own answer (value and unknown keys, from the condition memo) stands for
        that key's value: an ArnNotLike exemption on aws:PrincipalArn gives one answer for every role
        it does not exempt, whatever the account in the ARN. Conditions with variables, and variables in
        Resource, are keyed by the raw values of the keys they read. All-"*" Resource parts read nothing.
        """
        stmt = inputs.statement
        if not stmt.action_matches(req.action):
            return None
        ctx = req.context
        return (
            id(stmt),
            req.resource if inputs.by_resource else None,
            req.principal if inputs.by_principal else None,
            tuple(self._condition_value(c, ctx) for c in inputs.plain_conditions),
            tuple(ctx.signature(k) for k in inputs.variable_keys),
        )

    def _condition_value(self, cond: Condition, ctx: Context) -> tuple[bool | None, frozenset[str]]:
        """A condition without policy variables: its answer's value and unknown keys, per value of its key."""
        key = (id(cond), ctx.signature(cond.key_lc))
        value = self._condition_values.get(key)
        if value is None:
            answer = remembered(cond, ctx, self._conditions)
            value = self._condition_values[key] = (answer.value, answer.unknown)
        return value

    def __len__(self) -> int:
        return len(self._answers)


# What the words-free memo returns for a statement whose Action does not cover the request.
_NOT_COVERED = Truth(False)


@dataclass(frozen=True)
class _Inputs:
    """What of a request one statement reads."""

    statement: Statement
    by_resource: bool
    by_principal: bool
    keys: tuple[str, ...]  # every context key: condition keys and policy variables
    plain_conditions: tuple[Condition, ...]  # conditions without policy variables (one key each)
    variable_keys: tuple[str, ...]  # keys read by the other conditions and by policy variables

    @classmethod
    def of(cls, stmt: Statement) -> _Inputs:
        by_resource = stmt.not_resource or any(p.raw != "*" for p in stmt.resource_patterns)
        variables = _variables(stmt)
        plain = tuple(c for c in stmt.conditions if not any(p.has_vars for p in c.patterns))
        with_vars = [c.key_lc for c in stmt.conditions if any(p.has_vars for p in c.patterns)]
        return cls(stmt, by_resource, stmt.principals is not None,
                   tuple(dict.fromkeys([*(c.key_lc for c in stmt.conditions), *variables])),
                   plain, tuple(dict.fromkeys([*with_vars, *variables])))


def _variables(stmt: Statement) -> list[str]:
    """The keys of the policy variables in the statement's Resource and Condition values."""
    patterns = [*stmt.resource_patterns, *(p for c in stmt.conditions for p in c.patterns)]
    return [t.key for p in patterns if p.has_vars for t in p.tokens if isinstance(t, Var)]


def _resource(stmt: Statement, req: Request) -> Truth:
    element = "NotResource" if stmt.not_resource else "Resource"
    hits = [_one_resource(p, req) for p in stmt.resource_patterns]
    hit = any_of(hits)
    listed = ", ".join(repr(p.raw) for p in stmt.resource_patterns)
    target = "the call's resources" if isinstance(req.resource, ResourceScope) else repr(req.resource)
    if stmt.not_resource:
        verdict = {True: "excludes", False: "does not exclude", None: "may exclude"}[hit.value]
        return Truth(negate(hit).value, f"NotResource [{listed}] {verdict} {target}", hit.unknown)
    verdict = {True: "covers", False: "does not cover", None: "may cover"}[hit.value]
    return Truth(hit.value, f"{element} [{listed}] {verdict} {target}", hit.unknown)


def _one_resource(pattern: Pattern, req: Request) -> Truth:
    if pattern.raw == "*":
        return true()
    tokens = resolve_pattern(pattern, req.context)
    if isinstance(tokens, Truth):
        return tokens
    if isinstance(req.resource, ResourceScope):
        # The call is on "*": the auditor cannot list what it touches, only rule ARNs out.
        if any(can_match_with_prefix(tokens, prefix) for prefix in req.resource.arn_prefixes):
            return unknown(["Resource"], f"{show(tokens)} may name resources the call touches")
        return false()
    return Truth(glob_match(tokens, req.resource, arn=True))


def _principal(stmt: Statement, req: Request) -> Truth:
    if stmt.principals is None:
        return true()
    hit = any_of(_one_principal(p, req.principal) for p in stmt.principals)
    listed = ", ".join(f"{p.type}:{p.value}" if p.type != "*" else "*" for p in stmt.principals)
    if stmt.not_principal:
        verdict = {True: "names", False: "does not name", None: "may name"}[hit.value]
        return Truth(negate(hit).value, f"NotPrincipal [{listed}] {verdict} the caller", hit.unknown)
    verdict = {True: "names", False: "does not name", None: "may name"}[hit.value]
    return Truth(hit.value, f"Principal [{listed}] {verdict} the caller", hit.unknown)


_ACCOUNT_ROOT = re.compile(r"^arn:[^:]+:iam::(\d{12}):root$")


def _one_principal(p: Principal, who: RequestPrincipal) -> Truth:
    if p.type == "*" or (p.type == "AWS" and p.value == "*"):
        return true()
    if p.type == "Service":
        return Truth(who.service != "" and p.value.lower() == who.service.lower())
    if p.type != "AWS":
        return false()  # Federated / CanonicalUser never name an IAM role session
    if who.service:
        return false()
    root = _ACCOUNT_ROOT.match(p.value)
    account = p.value if p.value.isdigit() else root.group(1) if root else _arn_account(p.value)
    if who.account is None:
        return unknown(["Principal"])
    if account != who.account:
        return false()
    if p.value.isdigit() or root:
        return true()
    if who.arn is None or ":assumed-role/" in p.value:
        return unknown(["Principal"])  # a session ARN names a session name the auditor does not know
    return Truth(p.value == who.arn)


def _arn_account(arn: str) -> str:
    parts = arn.split(":", 5)
    return parts[4] if len(parts) == 6 else ""
