"""Policy JSON -> parsed statements, in every shape AWS accepts, or one clear PolicyError.

The parser checks what evaluation relies on (element names and types, operators, values an
operator can read) and names the policy, the statement (index and Sid) and the element in
every message. Parsing is done once per policy per run; evaluation only reads the result.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from auditor.policy.glob import Pattern, glob_text_match, parse_pattern
from auditor.policy.policy_json import PolicyJsonError, load_policy_json


class PolicyError(ValueError):
    """A policy document the evaluator cannot read; the message says where and why."""

    def __init__(self, message: str, *, policy_id: str = "", statement: int | None = None,
                 sid: str = "", element: str = "") -> None:
        super().__init__(message)
        self.policy_id = policy_id
        self.statement = statement
        self.sid = sid
        self.element = element


# canonical operator -> (family, negated, comparison)
_OPERATORS: dict[str, tuple[str, bool, str]] = {
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
_BY_LOWER = {k.lower(): k for k in _OPERATORS}
OPERATOR_NAMES: tuple[str, ...] = tuple(_OPERATORS)
_WILDCARD_FAMILIES = ("string_like", "arn")
_ACTION = re.compile(r"^(\*|[A-Za-z0-9*?_.-]+:[A-Za-z0-9*?_.-]+)$")
_STATEMENT_KEYS = ("Sid", "Effect", "Action", "NotAction", "Resource", "NotResource",
                   "Principal", "NotPrincipal", "Condition")
_PRINCIPAL_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")


@dataclass(frozen=True)
class Condition:
    """One (operator, key) pair of a Condition block with its values (OR-ed)."""

    operator: str  # as written, e.g. "ForAnyValue:StringNotLikeIfExists"
    base: str  # canonical operator without qualifier and IfExists, e.g. "StringNotLike"
    family: str
    negated: bool
    comparison: str  # eq | lt | le | gt | ge
    qualifier: str  # "" | "ForAnyValue" | "ForAllValues"
    if_exists: bool
    key: str  # as written
    key_lc: str
    values: tuple[str, ...]
    patterns: tuple[Pattern, ...]


@dataclass(frozen=True)
class Principal:
    kind: str  # "*" | AWS | Service | Federated | CanonicalUser
    value: str


@dataclass(frozen=True)
class Statement:
    index: int
    sid: str
    effect: str  # Allow | Deny
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[Pattern, ...]
    not_resource: bool
    principals: tuple[Principal, ...] | None  # None: no Principal element
    not_principal: bool
    conditions: tuple[Condition, ...]

    @property
    def label(self) -> str:
        return f"{self.sid!r} (#{self.index})" if self.sid else f"#{self.index}"

    def action_matches(self, action: str) -> bool:
        hit = _actions_cover(self.actions, action)
        return hit != self.not_action


@dataclass(frozen=True)
class PolicyDocument:
    policy_id: str
    name: str
    version: str
    statements: tuple[Statement, ...]


def parse_policy(document: str | dict[str, Any], *, policy_id: str = "", name: str = "") -> PolicyDocument:
    """Parse JSON text (or an already decoded object). Raises PolicyError only."""
    where = f"policy {policy_id or '?'}" + (f" ({name})" if name else "")
    if isinstance(document, str):
        try:
            data = load_policy_json(document)
        except PolicyJsonError as exc:
            raise PolicyError(f"{where}: not valid JSON: {exc}", policy_id=policy_id) from None
    else:
        data = document
    try:
        return _parse(data, where, policy_id, name)
    except PolicyError:
        raise
    except (RecursionError, ValueError, TypeError, OverflowError, AttributeError) as exc:  # a decoded object
        raise PolicyError(f"{where}: cannot read the document: {type(exc).__name__}: {str(exc)[:200]}",
                          policy_id=policy_id) from None


def _parse(data: Any, where: str, policy_id: str, name: str) -> PolicyDocument:
    def top(msg: str, element: str = "") -> PolicyError:
        return PolicyError(f"{where}: {msg}", policy_id=policy_id, element=element)

    if not isinstance(data, dict):
        raise top(f"the document must be a JSON object, found {_kind(data)}")
    for key in data:
        if key not in ("Version", "Id", "Statement"):
            raise top(f"unknown top-level element {key!r} (allowed: Version, Id, Statement)", key)
    version = data.get("Version", "2008-10-17")
    if version not in ("2012-10-17", "2008-10-17"):
        raise top(f"Version {version!r} is not '2012-10-17' or '2008-10-17'", "Version")
    if "Statement" not in data:
        raise top("no Statement element", "Statement")
    raw = data["Statement"]
    items = [raw] if isinstance(raw, dict) else raw
    if not isinstance(items, list):
        raise top(f"Statement must be an object or a list of objects, found {_kind(raw)}", "Statement")
    if not items:
        raise top("Statement is an empty list", "Statement")
    variables = version == "2012-10-17"  # 2008-10-17 reads ${...} literally
    statements = tuple(_statement(i, item, where, policy_id, variables) for i, item in enumerate(items))
    return PolicyDocument(policy_id, name, version, statements)


def _statement(index: int, item: Any, where: str, policy_id: str, variables: bool) -> Statement:
    sid = item.get("Sid", "") if isinstance(item, dict) else ""
    sid = sid if isinstance(sid, str) else ""
    label = f"statement {index}" + (f" (Sid {sid!r})" if sid else "")

    def err(element: str, msg: str) -> PolicyError:
        return PolicyError(f"{where}: {label}: {element}: {msg}", policy_id=policy_id, statement=index,
                           sid=sid, element=element)

    if not isinstance(item, dict):
        raise err("Statement", f"must be an object, found {_kind(item)}")
    for key in item:
        if key not in _STATEMENT_KEYS:
            raise err(key, f"unknown element (allowed: {', '.join(_STATEMENT_KEYS)})")
    if "Sid" in item and not isinstance(item["Sid"], str):
        raise err("Sid", f"must be a string, found {_kind(item['Sid'])}")
    effect = item.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise err("Effect", f"must be 'Allow' or 'Deny', found {effect!r}")
    actions, not_action = _pick(item, "Action", "NotAction", err, required=True)
    for a in actions:
        if not _ACTION.match(a):
            raise err("NotAction" if not_action else "Action", f"{a!r} is not '*' or 'service:action'")
    resources, not_resource = _pick(item, "Resource", "NotResource", err, required=False)
    for r in resources:
        if r != "*" and not r.startswith("arn:"):
            raise err("NotResource" if not_resource else "Resource", f"{r!r} is not '*' or an ARN")
    principals, not_principal = _principals(item, err)
    conditions = _conditions(item.get("Condition"), err, variables) if "Condition" in item else ()
    return Statement(
        index=index,
        sid=sid,
        effect=effect,
        actions=actions,
        not_action=not_action,
        resources=tuple(parse_pattern(r, wildcards=True, variables=variables) for r in resources) or (
            parse_pattern("*", wildcards=True, variables=False),),
        not_resource=not_resource,
        principals=principals,
        not_principal=not_principal,
        conditions=conditions,
    )


def _pick(item: dict[str, Any], pos: str, neg: str, err: Any, *, required: bool) -> tuple[tuple[str, ...], bool]:
    if pos in item and neg in item:
        raise err(neg, f"a statement cannot have both {pos} and {neg}")
    if pos not in item and neg not in item:
        if required:
            raise err(pos, f"a statement needs {pos} or {neg}")
        return (), False  # no Resource: the statement covers every resource
    element = pos if pos in item else neg
    return _strings(item[element], element, err), element == neg


def _strings(value: Any, element: str, err: Any) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise err(element, f"must be a string or a list of strings, found {_kind(value)}")
    if not items:
        raise err(element, "is an empty list")
    for i, v in enumerate(items):
        if not isinstance(v, str):
            raise err(f"{element}[{i}]", f"must be a string, found {_kind(v)}")
        if not v:
            raise err(f"{element}[{i}]", "is an empty string")
    return tuple(items)


def _principals(item: dict[str, Any], err: Any) -> tuple[tuple[Principal, ...] | None, bool]:
    if "Principal" in item and "NotPrincipal" in item:
        raise err("NotPrincipal", "a statement cannot have both Principal and NotPrincipal")
    element = "Principal" if "Principal" in item else "NotPrincipal" if "NotPrincipal" in item else ""
    if not element:
        return None, False
    raw = item[element]
    if raw == "*":
        return (Principal("*", "*"),), element == "NotPrincipal"
    if not isinstance(raw, dict) or not raw:
        raise err(element, f"must be \"*\" or an object like {{\"AWS\": ...}}, found {_kind(raw)}")
    out: list[Principal] = []
    for kind, values in raw.items():
        if kind not in _PRINCIPAL_TYPES:
            raise err(f"{element}.{kind}", f"unknown principal type (allowed: {', '.join(_PRINCIPAL_TYPES)})")
        for v in _strings(values, f"{element}.{kind}", err):
            if kind == "AWS" and v != "*" and not (re.fullmatch(r"\d{12}", v) or v.startswith("arn:")):
                raise err(f"{element}.AWS", f"{v!r} is not '*', a 12-digit account id or an ARN")
            out.append(Principal(kind, v))
    return tuple(out), element == "NotPrincipal"


def _conditions(raw: Any, err: Any, variables: bool) -> tuple[Condition, ...]:
    if not isinstance(raw, dict):
        raise err("Condition", f"must be an object of operators, found {_kind(raw)}")
    out: list[Condition] = []
    for operator, block in raw.items():
        where = f"Condition.{operator}"
        base, qualifier, if_exists = _operator(operator, where, err)
        family, negated, comparison = _OPERATORS[base]
        if not isinstance(block, dict) or not block:
            raise err(where, f"must be a non-empty object of condition keys, found {_kind(block)}")
        for key, value in block.items():
            if not key or not key.strip():
                raise err(where, "has an empty condition key")
            values = _values(value, f"{where}.{key}", family, err, variables)
            wild = family in _WILDCARD_FAMILIES
            patterns = tuple(parse_pattern(v, wildcards=wild, variables=variables) for v in values)
            out.append(Condition(operator, base, family, negated, comparison, qualifier, if_exists,
                                 key, key.strip().lower(), values, patterns))
    return tuple(out)


def _operator(operator: str, where: str, err: Any) -> tuple[str, str, bool]:
    rest, qualifier = operator, ""
    for q in ("ForAnyValue", "ForAllValues"):
        if operator.lower().startswith(q.lower() + ":"):
            qualifier, rest = q, operator[len(q) + 1:]
    if_exists = rest.lower().endswith("ifexists") and rest.lower() != "ifexists"
    base = rest[: -len("IfExists")] if if_exists else rest
    canonical = _BY_LOWER.get(base.lower())
    if canonical is None:
        raise err(where, f"{operator!r} is not a condition operator")
    if canonical == "Null" and if_exists:
        raise err(where, "NullIfExists is not a condition operator")
    return canonical, qualifier, if_exists


def _values(value: Any, where: str, family: str, err: Any, variables: bool) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise err(where, "has an empty list of values")
    out: list[str] = []
    for v in items:
        if isinstance(v, bool):
            text = "true" if v else "false"
        elif isinstance(v, (int, float)):
            text = json.dumps(v)
        elif isinstance(v, str):
            text = v
        else:
            raise err(where, f"values must be strings, numbers or booleans, found {_kind(v)}")
        if not (variables and "${" in text):
            problem = _value_problem(family, text)
            if problem:
                raise err(where, f"{text!r} {problem}")
        out.append(text.lower() if family in ("bool", "null") else text)
    return tuple(out)


def _value_problem(family: str, text: str) -> str:
    if family in ("bool", "null") and text.lower() not in ("true", "false"):
        return "is not true or false"
    if family == "numeric" and parse_number(text) is None:
        return "is not a number"
    if family == "date" and parse_date(text) is None:
        return "is not a date (ISO 8601 or epoch seconds)"
    if family == "ip" and parse_network(text) is None:
        return "is not an IP address or CIDR block"
    if family == "binary" and parse_binary(text) is None:
        return "is not base64"
    return ""


def parse_number(text: str) -> Decimal | None:
    try:
        d = Decimal(text.strip())
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


def parse_date(text: str) -> float | None:
    t = text.strip()
    if re.fullmatch(r"-?\d+", t):
        return float(t)
    try:
        dt = datetime.fromisoformat(t.replace("z", "Z"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def parse_network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def parse_binary(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


@lru_cache(maxsize=65536)  # the same statements meet the same few probe actions in every account
def _actions_cover(patterns: tuple[str, ...], action: str) -> bool:
    return any(glob_text_match(p, action, ignore_case=True) for p in patterns)


def action_pattern_matches(pattern: str, action: str) -> bool:
    return glob_text_match(pattern, action, ignore_case=True)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {json.dumps(value)}"
    if isinstance(value, (int, float)):
        return f"number {value!r}"
    if isinstance(value, str):
        return f"string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
