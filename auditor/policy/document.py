"""Policy JSON -> the policy model (`model.py`), in every shape AWS accepts, or one clear PolicyError.

The one reader of IAM policy JSON, in two dialects:

- organization policies (`parse_policy`: SCPs, RCPs) are read strictly, as Organizations
  validates them: element names, operators and the values an operator can read are checked,
  and messages name the policy, the statement (index and Sid) and the element;
- role policies (`parse_role_policy`: trust and identity policies as IAM returns them) are read
  as tolerantly as IAM evaluates them (`"allow"`, `{"aws": ...}`, unknown operators kept), and
  messages name the place ("Statement[1].Principal.AWS[0]") and never a value: condition values
  may hold external ids.

JSON goes through `policy_json.load_policy_json` (depth and number limits). Parsing is done once
per document; evaluation, checks and reports read the result.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from dataclasses import dataclass
from typing import Any

from auditor.policy.glob import parse_pattern
from auditor.policy.model import (
    OPERATOR_NAMES,
    Condition,
    PolicyDocument,
    PolicyError,
    Principal,
    Statement,
    action_pattern_matches,
    make_condition,
    parse_principal,
    split_operator,
)
from auditor.policy.policy_json import PolicyJsonError, load_policy_json
from auditor.policy.values import kind_hidden, kind_shown, value_problem, value_text

__all__ = [
    "OPERATOR_NAMES", "Condition", "PolicyDocument", "PolicyError", "Principal", "Statement",
    "action_pattern_matches", "parse_policy", "parse_role_policy", "role_statements",
]

_ACTION = re.compile(r"^(\*|[A-Za-z0-9*?_.-]+:[A-Za-z0-9*?_.-]+)$")
_STATEMENT_KEYS = ("Sid", "Effect", "Action", "NotAction", "Resource", "NotResource",
                   "Principal", "NotPrincipal", "Condition")
_PRINCIPAL_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")
_PRINCIPAL_BY_LOWER = {t.lower(): t for t in _PRINCIPAL_TYPES}
_READ_ERRORS = (RecursionError, ValueError, TypeError, OverflowError, AttributeError)


@dataclass(frozen=True)
class _Dialect:
    strict: bool  # an organization policy
    trust: bool  # a trust policy: every statement names a principal
    where: str  # "policy p-1 (name)" (organization policies only)
    policy_id: str = ""

    def kind(self, value: Any) -> str:
        return kind_shown(value) if self.strict else kind_hidden(value)

    def top(self, message: str, element: str = "") -> PolicyError:
        text = f"{self.where}: {message}" if self.strict else message
        return PolicyError(text, policy_id=self.policy_id, element=element)


@dataclass(frozen=True)
class _Place:
    """One statement, for error messages."""

    d: _Dialect
    index: int
    sid: str
    path: str  # role dialect: "Statement" (a lone object) or "Statement[i]"

    def err(self, element: str, strict: str, role: str) -> PolicyError:
        """`strict`: the organization wording after "element: "; `role`: the role wording after the path."""
        if self.d.strict:
            label = f"statement {self.index}" + (f" (Sid {self.sid!r})" if self.sid else "")
            text = f"{self.d.where}: {label}: {element}: {strict}"
        else:
            text = f"{self.path}{role}"
        return PolicyError(text, policy_id=self.d.policy_id, statement=self.index, sid=self.sid, element=element)


def parse_policy(document: str | dict[str, Any], *, policy_id: str = "", name: str = "") -> PolicyDocument:
    """An organization policy (SCP, RCP): JSON text or an already decoded object. Raises PolicyError only."""
    d = _Dialect(True, False, f"policy {policy_id or '?'}" + (f" ({name})" if name else ""), policy_id)
    if isinstance(document, str):
        try:
            data = load_policy_json(document)
        except PolicyJsonError as exc:
            raise d.top(f"not valid JSON: {exc}") from None
    else:
        data = document
    return _read(d, data, policy_id, name)


def parse_role_policy(document: str | dict[str, Any], *, trust: bool, name: str = "") -> PolicyDocument:
    """A role's trust policy (`trust`) or identity policy, as IAM returns it. Raises PolicyError only."""
    d = _Dialect(False, trust, "")
    return _read(d, _load_role_document(document), "", name)


def role_statements(document: str | dict[str, Any], *, trust: bool) -> tuple[Statement, ...]:
    """The statements of a role policy (see `parse_role_policy`)."""
    return parse_role_policy(document, trust=trust).statements


def _load_role_document(document: Any) -> Any:
    if isinstance(document, dict):
        return document
    if not isinstance(document, str):
        raise PolicyError(f"the document must be JSON text, found {kind_hidden(document)}")
    text = document.strip()
    if text.startswith("%"):  # IAM's raw API returns URL-encoded documents
        text = urllib.parse.unquote(text)
    if not text:
        raise PolicyError("the document is empty")
    try:
        return load_policy_json(text)
    except PolicyJsonError as exc:
        raise PolicyError(f"not valid JSON: {exc}") from None


def _read(d: _Dialect, data: Any, policy_id: str, name: str) -> PolicyDocument:
    try:
        return _document(d, data, policy_id, name)
    except PolicyError:
        raise
    except _READ_ERRORS as exc:  # a decoded object too deep or too big to walk or show
        raise d.top(f"cannot read the document: {type(exc).__name__}: {str(exc)[:200]}") from None


def _document(d: _Dialect, data: Any, policy_id: str, name: str) -> PolicyDocument:
    if not isinstance(data, dict):
        raise d.top(f"the document must be a JSON object, found {d.kind(data)}")
    version = data.get("Version", "2008-10-17")
    if d.strict:
        for key in data:
            if key not in ("Version", "Id", "Statement"):
                raise d.top(f"unknown top-level element {key!r} (allowed: Version, Id, Statement)", key)
        if version not in ("2012-10-17", "2008-10-17"):
            raise d.top(f"Version {version!r} is not '2012-10-17' or '2008-10-17'", "Version")
    if "Statement" not in data:
        raise d.top("no Statement element" if d.strict else "the document has no Statement", "Statement")
    raw = data["Statement"]
    items = [raw] if isinstance(raw, dict) else raw
    if not isinstance(items, list):
        raise d.top(f"Statement must be an object or a list of objects, found {d.kind(raw)}", "Statement")
    if not items:
        raise d.top("Statement is an empty list", "Statement")
    variables = version == "2012-10-17"  # 2008-10-17 reads ${...} literally
    single = isinstance(raw, dict)
    statements = tuple(_statement(d, i, item, single, variables) for i, item in enumerate(items))
    return PolicyDocument(policy_id, name, version if isinstance(version, str) else "", statements)


def _statement(d: _Dialect, index: int, item: Any, single: bool, variables: bool) -> Statement:
    sid = item.get("Sid", "") if isinstance(item, dict) else ""
    sid = sid if isinstance(sid, str) else ""
    at = _Place(d, index, sid, "Statement" if single else f"Statement[{index}]")
    if not isinstance(item, dict):
        found = f"must be an object, found {d.kind(item)}"
        raise at.err("Statement", found, f" {found}")
    if d.strict:
        for key in item:
            if key not in _STATEMENT_KEYS:
                raise at.err(key, f"unknown element (allowed: {', '.join(_STATEMENT_KEYS)})", "")
        if "Sid" in item and not isinstance(item["Sid"], str):
            raise at.err("Sid", f"must be a string, found {d.kind(item['Sid'])}", "")
    effect = _effect(at, item.get("Effect"))
    if not d.strict:  # the role checks have always named a missing principal first
        principals, not_principal = _principals(at, item)
    actions, not_action = _pick(at, item, "Action", "NotAction", required=True)
    for a in actions if d.strict else ():
        if not _ACTION.match(a):
            raise at.err("NotAction" if not_action else "Action", f"{a!r} is not '*' or 'service:action'", "")
    resources, not_resource = _pick(at, item, "Resource", "NotResource", required=False)
    for r in resources if d.strict else ():
        if r != "*" and not r.startswith("arn:"):
            raise at.err("NotResource" if not_resource else "Resource", f"{r!r} is not '*' or an ARN", "")
    if d.strict:
        principals, not_principal = _principals(at, item)
    conditions: tuple[Condition, ...] = ()
    if "Condition" in item and (d.strict or item["Condition"] is not None):
        conditions = _conditions(at, item["Condition"], variables)
    resources = resources or ("*",)
    return Statement(
        index=index,
        sid=sid,
        effect=effect,
        actions=actions,
        not_action=not_action,
        resources=resources,
        resource_patterns=tuple(parse_pattern(r, wildcards=True, variables=variables) for r in resources),
        not_resource=not_resource,
        principals=principals,
        not_principal=not_principal,
        conditions=conditions,
        label=(f"{sid!r} (#{index})" if sid else f"#{index}") if d.strict else f"Statement[{index}]",
        raw=json.dumps(item, default=str),  # re-encoded for evidence (decoded by load_policy_json)
    )


def _effect(at: _Place, effect: Any) -> str:
    if at.d.strict:
        if effect not in ("Allow", "Deny"):
            raise at.err("Effect", f"must be 'Allow' or 'Deny', found {effect!r}", "")
        return str(effect)
    if not isinstance(effect, str) or effect.lower() not in ("allow", "deny"):
        shown = repr(effect) if isinstance(effect, str) and len(effect) < 20 else kind_hidden(effect)
        raise at.err("Effect", "", f'.Effect must be "Allow" or "Deny", found {shown}')
    return effect.capitalize()  # IAM reads the effect case-insensitively


def _pick(at: _Place, item: dict[str, Any], pos: str, neg: str, *, required: bool) -> tuple[tuple[str, ...], bool]:
    if pos in item and neg in item:
        raise at.err(neg, f"a statement cannot have both {pos} and {neg}", f" has both {pos} and {neg}")
    if pos not in item and neg not in item:
        if required:
            raise at.err(pos, f"a statement needs {pos} or {neg}", f" has neither {pos} nor {neg}")
        return (), False  # no Resource: the statement covers every resource
    element = pos if pos in item else neg
    return _strings(at, item[element], element), element == neg


def _strings(at: _Place, value: Any, element: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    kind = at.d.kind(value)
    if not isinstance(items, list) or (not items and not at.d.strict):
        raise at.err(element, f"must be a string or a list of strings, found {kind}",
                     f".{element} must be a string or a non-empty list of strings, found {kind}")
    if not items:
        raise at.err(element, "is an empty list", "")
    for i, v in enumerate(items):
        if not isinstance(v, str):
            kind = at.d.kind(v)
            raise at.err(f"{element}[{i}]", f"must be a string, found {kind}",
                         f".{element}[{i}] must be a string, found {kind}")
        if not v and at.d.strict:
            raise at.err(f"{element}[{i}]", "is an empty string", "")
    return tuple(items)


def _principals(at: _Place, item: dict[str, Any]) -> tuple[tuple[Principal, ...] | None, bool]:
    if "Principal" in item and "NotPrincipal" in item:
        raise at.err("NotPrincipal", "a statement cannot have both Principal and NotPrincipal",
                     " has both Principal and NotPrincipal")
    element = "Principal" if "Principal" in item else "NotPrincipal" if "NotPrincipal" in item else ""
    if not element:
        if at.d.trust:
            raise at.err("Principal", "", " has no Principal (a trust policy must name who may assume the role)")
        return None, False
    raw = item[element]
    if raw == "*":
        return (parse_principal("*", "*"),), element == "NotPrincipal"
    if not isinstance(raw, dict) or not raw:
        shown = f"must be \"*\" or an object like {{\"AWS\": ...}}, found {at.d.kind(raw)}"
        raise at.err(element, shown, f".{element} {shown}")
    out: list[Principal] = []
    for kind, values in raw.items():
        canonical = _PRINCIPAL_BY_LOWER.get(str(kind).lower(), str(kind))  # IAM reads the type case-insensitively
        if at.d.strict:
            if kind not in _PRINCIPAL_TYPES:
                allowed = ", ".join(_PRINCIPAL_TYPES)
                raise at.err(f"{element}.{kind}", f"unknown principal type (allowed: {allowed})", "")
            canonical = kind
        for v in _strings(at, values, f"{element}.{kind}"):
            if at.d.strict and kind == "AWS" and v != "*" and not (re.fullmatch(r"\d{12}", v) or v.startswith("arn:")):
                raise at.err(f"{element}.AWS", f"{v!r} is not '*', a 12-digit account id or an ARN", "")
            out.append(parse_principal(canonical, v))
    return tuple(out), element == "NotPrincipal"


def _conditions(at: _Place, raw: Any, variables: bool) -> tuple[Condition, ...]:
    if not isinstance(raw, dict):
        raise at.err("Condition", f"must be an object of operators, found {at.d.kind(raw)}",
                     f".Condition must be an object, found {at.d.kind(raw)}")
    out: list[Condition] = []
    for operator, block in raw.items():
        where = f"Condition.{operator}"
        op = split_operator(str(operator))
        if at.d.strict:
            if not op.family:
                raise at.err(where, f"{operator!r} is not a condition operator", "")
            if op.family == "null" and op.if_exists:
                raise at.err(where, "NullIfExists is not a condition operator", "")
            if not isinstance(block, dict) or not block:
                raise at.err(where, f"must be a non-empty object of condition keys, found {at.d.kind(block)}", "")
        elif not isinstance(block, dict):
            raise at.err(where, "", f".{where} must be an object of condition keys, found {at.d.kind(block)}")
        for key, value in block.items():
            if at.d.strict and (not key or not key.strip()):
                raise at.err(where, "has an empty condition key", "")
            values = _values(at, value, f"{where}.{key}", op.family, variables)
            out.append(make_condition(op, str(key), values, variables=variables))
    return tuple(out)


def _values(at: _Place, value: Any, where: str, family: str, variables: bool) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise at.err(where, "has an empty list of values", f".{where} is an empty list")
    out: list[str] = []
    for i, v in enumerate(items):
        if not isinstance(v, (bool, int, float, str)):
            suffix = f"[{i}]" if isinstance(value, list) else ""
            raise at.err(where, f"values must be strings, numbers or booleans, found {at.d.kind(v)}",
                         f".{where}{suffix} must be a string, number or boolean, found {at.d.kind(v)}")
        text = value_text(v)
        if at.d.strict and not (variables and "${" in text):
            problem = value_problem(family, text)
            if problem:
                raise at.err(where, f"{text!r} {problem}", "")
        out.append(text.lower() if family in ("bool", "null") else text)
    return tuple(out)
