"""The one model of an IAM policy document (organization, identity and trust policies alike).

`document.py` builds it from JSON; the evaluator (`statement.py`, `conditions.py`), the role
checks (`auditor/checks/`) and the report read it. Nothing else reads policy JSON.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from auditor.policy.glob import Pattern, glob_text_match, parse_pattern

# canonical operator -> (family, negated, comparison)
OPERATORS: dict[str, tuple[str, bool, str]] = {
    "StringEquals": ("string", False, "eq"),
    "StringNotEquals": ("string", True, "eq"),
    "StringEqualsIgnoreCase": ("string_ic", False, "eq"),
    "StringNotEqualsIgnoreCase": ("string_ic", True, "eq"),
    "StringLike": ("string_like", False, "eq"),
    "StringNotLike": ("string_like", True, "eq"),
    "NumericEquals": ("numeric", False, "eq"),
    "NumericNotEquals": ("numeric", True, "eq"),
    "NumericLessThan": ("numeric", False, "lt"),
    "NumericLessThanEquals": ("numeric", False, "le"),
    "NumericGreaterThan": ("numeric", False, "gt"),
    "NumericGreaterThanEquals": ("numeric", False, "ge"),
    "DateEquals": ("date", False, "eq"),
    "DateNotEquals": ("date", True, "eq"),
    "DateLessThan": ("date", False, "lt"),
    "DateLessThanEquals": ("date", False, "le"),
    "DateGreaterThan": ("date", False, "gt"),
    "DateGreaterThanEquals": ("date", False, "ge"),
    "Bool": ("bool", False, "eq"),
    "BinaryEquals": ("binary", False, "eq"),
    "IpAddress": ("ip", False, "eq"),
    "NotIpAddress": ("ip", True, "eq"),
    "ArnEquals": ("arn", False, "eq"),
    "ArnLike": ("arn", False, "eq"),
    "ArnNotEquals": ("arn", True, "eq"),
    "ArnNotLike": ("arn", True, "eq"),
    "Null": ("null", False, "eq"),
}
_BY_LOWER = {k.lower(): k for k in OPERATORS}
OPERATOR_NAMES: tuple[str, ...] = tuple(OPERATORS)
STRING_FAMILIES = ("string", "string_ic", "string_like")
_WILDCARD_FAMILIES = ("string_like", "arn")
_ARN = re.compile(r"^arn:(?P<partition>[\w-]+):(?:iam|sts)::(?P<account>\d{12}):(?P<resource>.+)$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")


class PolicyError(ValueError):
    """A policy document that cannot be read; the message says where and why."""

    def __init__(self, message: str, *, policy_id: str = "", statement: int | None = None,
                 sid: str = "", element: str = "") -> None:
        super().__init__(message)
        self.policy_id = policy_id
        self.statement = statement
        self.sid = sid
        self.element = element


@dataclass(frozen=True)
class Operator:
    """A condition operator as written, split into what evaluation reads."""

    written: str  # e.g. "ForAnyValue:StringNotLikeIfExists"
    base: str  # canonical operator without qualifier and IfExists ("StringNotLike"); as written if unknown
    family: str  # "" for an operator IAM does not have (only role documents keep those)
    negated: bool
    comparison: str  # eq | lt | le | gt | ge
    qualifier: str  # "" | "ForAnyValue" | "ForAllValues"
    if_exists: bool


def split_operator(operator: str) -> Operator:
    rest, qualifier = operator, ""
    for q in ("ForAnyValue", "ForAllValues"):
        if operator.lower().startswith(q.lower() + ":"):
            qualifier, rest = q, operator[len(q) + 1:]
    if_exists = rest.lower().endswith("ifexists") and rest.lower() != "ifexists"
    base = rest[: -len("IfExists")] if if_exists else rest
    canonical = _BY_LOWER.get(base.lower())
    if canonical is None:
        return Operator(operator, base, "", "not" in base.lower(), "eq", qualifier, if_exists)
    family, negated, comparison = OPERATORS[canonical]
    return Operator(operator, canonical, family, negated, comparison, qualifier, if_exists)


@dataclass(frozen=True)
class Condition:
    """One (operator, key) pair of a Condition block with its values (OR-ed)."""

    operator: str  # as written, e.g. "ForAnyValue:StringNotLikeIfExists"
    base: str  # canonical operator without qualifier and IfExists, e.g. "StringNotLike"
    family: str  # "" when the operator is not one IAM has
    negated: bool
    comparison: str  # eq | lt | le | gt | ge
    qualifier: str  # "" | "ForAnyValue" | "ForAllValues"
    if_exists: bool
    key: str  # as written
    key_lc: str
    values: tuple[str, ...]
    patterns: tuple[Pattern, ...]

    @property
    def string_test(self) -> bool:
        """A string comparison or a presence test: what an sts:ExternalId condition should be."""
        return self.family in (*STRING_FAMILIES, "null")


def make_condition(operator: str | Operator, key: str, values: tuple[str, ...], *, variables: bool) -> Condition:
    op = operator if isinstance(operator, Operator) else split_operator(operator)
    wild = op.family in _WILDCARD_FAMILIES
    patterns = tuple(parse_pattern(v, wildcards=wild, variables=variables) for v in values)
    return Condition(op.written, op.base, op.family, op.negated, op.comparison, op.qualifier, op.if_exists,
                     key, key.strip().lower(), values, patterns)


@dataclass(frozen=True)
class Principal:
    type: str  # "AWS", "Service", "Federated", "CanonicalUser", or "*" for `"Principal": "*"`
    value: str
    account: str | None = None  # 12-digit account of an AWS principal
    partition: str | None = None  # from the ARN; None for a bare account id
    shape: str = "other"  # wildcard | account | root | role | user | assumed_role | other

    @property
    def wildcard(self) -> bool:
        return self.shape == "wildcard"

    @property
    def account_wide(self) -> bool:
        """The whole account (root ARN or bare id), the documented form for cross-account trust."""
        return self.shape in ("account", "root")


def parse_principal(ptype: str, value: str) -> Principal:
    """The principal with what its value says: account, partition and shape of an AWS principal."""
    if ptype == "*" or value == "*":
        return Principal(ptype, value, shape="wildcard")
    if ptype != "AWS":
        return Principal(ptype, value)
    if _ACCOUNT_ID.match(value):
        return Principal(ptype, value, account=value, shape="account")
    m = _ARN.match(value)
    if not m:
        return Principal(ptype, value)  # unique id of a deleted role (AROA...), or malformed
    kind = m["resource"].split("/", 1)[0]
    shape = {"root": "root", "role": "role", "user": "user", "assumed-role": "assumed_role"}.get(kind, "other")
    return Principal(ptype, value, account=m["account"], partition=m["partition"], shape=shape)


@dataclass(frozen=True)
class Statement:
    index: int  # position in the document, 0-based
    sid: str
    effect: str  # Allow | Deny
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...]  # as written; ("*",) when the statement has no Resource
    resource_patterns: tuple[Pattern, ...]
    not_resource: bool
    principals: tuple[Principal, ...] | None  # None: no Principal element
    not_principal: bool
    conditions: tuple[Condition, ...]
    label: str  # how messages name it: "'sid' (#0)" in organization policies, "Statement[0]" in role policies
    raw: str  # the statement as JSON, unmasked: mask external ids before showing it

    @property
    def named(self) -> tuple[Principal, ...]:
        """The principals listed in Principal or NotPrincipal (none when the element is absent)."""
        return self.principals or ()

    def action_matches(self, action: str) -> bool:
        """Whether Action/NotAction covers `action` (effect, resource and principal aside)."""
        return _actions_cover(self.actions, action) != self.not_action

    allows = action_matches  # the role checks' word for it

    def conditions_on(self, key: str) -> tuple[Condition, ...]:
        key_lc = key.lower()  # the key as written (not stripped): " sts:ExternalId" is another key
        return tuple(c for c in self.conditions if c.key.lower() == key_lc)


@dataclass(frozen=True)
class PolicyDocument:
    policy_id: str
    name: str
    version: str
    statements: tuple[Statement, ...]


@lru_cache(maxsize=65536)  # the same statements meet the same few probe actions in every account
def _actions_cover(patterns: tuple[str, ...], action: str) -> bool:
    return any(glob_text_match(p, action, ignore_case=True) for p in patterns)


def action_pattern_matches(pattern: str, action: str) -> bool:
    """IAM `*`/`?` matching of action names (and `"*"` resources), case-insensitive."""
    return glob_text_match(pattern, action, ignore_case=True)
