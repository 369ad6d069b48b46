"""A small tolerant normalizer for the policy documents the role checks read.

AWS accepts many JSON shapes for the same policy (Statement as object or list, Action and
Principal values as string or list, condition values as scalar or list). The checks want one
shape, so this turns any accepted shape into `Statement` tuples, and anything else into a
`PolicyDocumentError` whose message names the place ("Statement[1].Principal.AWS[0]") and never
the values (condition values may hold external ids). It is deliberately not the full IAM
parser of `auditor/policy/`: the role checks only need principals, actions and conditions.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from dataclasses import dataclass
from typing import Any

from auditor.policy.glob import glob_text_match
from auditor.policy.policy_json import PolicyJsonError, load_policy_json

_PRINCIPAL_TYPES = {
    "aws": "AWS",
    "service": "Service",
    "federated": "Federated",
    "canonicaluser": "CanonicalUser",
}
_ARN = re.compile(r"^arn:(?P<partition>[\w-]+):(?:iam|sts)::(?P<account>\d{12}):(?P<resource>.+)$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")


class PolicyDocumentError(ValueError):
    """The document is not a policy AWS would accept; the message says where."""


@dataclass(frozen=True)
class Condition:
    operator: str  # as written, e.g. "StringEquals", "ForAnyValue:StringLikeIfExists"
    key: str  # as written; compare with `key.lower()`
    values: tuple[str, ...]


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


@dataclass(frozen=True)
class Statement:
    index: int  # position in the document, 0-based
    effect: str  # "Allow" | "Deny"
    principals: tuple[Principal, ...] = ()
    not_principal: bool = False
    actions: tuple[str, ...] = ()
    not_action: bool = False
    resources: tuple[str, ...] = ("*",)
    not_resource: bool = False
    conditions: tuple[Condition, ...] = ()
    raw: str = "{}"  # the statement as JSON (unmasked: mask before showing)

    @property
    def label(self) -> str:
        return f"Statement[{self.index}]"

    def allows(self, action: str) -> bool:
        """Whether the statement's Action/NotAction covers `action` (effect and principal aside)."""
        hit = any(wildcard_match(pattern, action) for pattern in self.actions)
        return not hit if self.not_action else hit

    def conditions_on(self, key: str) -> tuple[Condition, ...]:
        return tuple(c for c in self.conditions if c.key.lower() == key.lower())


def wildcard_match(pattern: str, value: str) -> bool:
    """IAM `*`/`?` matching, case-insensitive (action names are)."""
    return glob_text_match(pattern, value, ignore_case=True)


def wildcard_match_case(pattern: str, value: str) -> bool:
    """StringLike matching: `*`/`?` wildcards, case-sensitive."""
    return glob_text_match(pattern, value)


def parse_principal(ptype: str, value: str) -> Principal:
    if ptype == "*" or value == "*":
        return Principal(ptype, value, shape="wildcard")
    if ptype != "AWS":
        return Principal(ptype, value)
    if _ACCOUNT_ID.match(value):
        return Principal(ptype, value, account=value, shape="account")
    m = _ARN.match(value)
    if not m:
        return Principal(ptype, value)  # unique id of a deleted role (AROA...), or malformed
    resource = m["resource"]
    kind = resource.split("/", 1)[0]
    shape = {"root": "root", "role": "role", "user": "user", "assumed-role": "assumed_role"}.get(kind, "other")
    return Principal(ptype, value, account=m["account"], partition=m["partition"], shape=shape)


def parse_policy(document: str | dict[str, Any], *, trust: bool) -> tuple[Statement, ...]:
    """Normalize a policy document. `trust`: a role trust policy, so every statement needs a principal.
    Raises PolicyDocumentError only."""
    try:
        return _parse(document, trust)
    except PolicyDocumentError:
        raise
    except (ValueError, TypeError, RecursionError, OverflowError) as exc:  # e.g. a decoded object too big to show
        raise PolicyDocumentError(f"cannot read the document: {type(exc).__name__}: {str(exc)[:200]}") from None


def _parse(document: str | dict[str, Any], trust: bool) -> tuple[Statement, ...]:
    data = _load(document)
    if not isinstance(data, dict):
        raise PolicyDocumentError(f"the document must be a JSON object, found {_type(data)}")
    if "Statement" not in data:
        raise PolicyDocumentError("the document has no Statement")
    raw = data["Statement"]
    if isinstance(raw, dict):
        items, single = [raw], True
    elif isinstance(raw, list):
        items, single = raw, False
    else:
        raise PolicyDocumentError(f"Statement must be an object or a list of objects, found {_type(raw)}")
    if not items:
        raise PolicyDocumentError("Statement is an empty list")
    return tuple(
        _statement(item, i, "Statement" if single else f"Statement[{i}]", trust) for i, item in enumerate(items)
    )


def _load(document: str | dict[str, Any]) -> Any:
    if isinstance(document, dict):
        return document
    if not isinstance(document, str):
        raise PolicyDocumentError(f"the document must be JSON text, found {_type(document)}")
    text = document.strip()
    if text.startswith("%"):  # IAM's raw API returns URL-encoded documents
        text = urllib.parse.unquote(text)
    if not text:
        raise PolicyDocumentError("the document is empty")
    try:
        return load_policy_json(text)
    except PolicyJsonError as exc:
        raise PolicyDocumentError(f"not valid JSON: {exc}") from None


def _statement(item: Any, index: int, where: str, trust: bool) -> Statement:
    if not isinstance(item, dict):
        raise PolicyDocumentError(f"{where} must be an object, found {_type(item)}")
    effect = item.get("Effect")
    if not isinstance(effect, str) or effect.lower() not in ("allow", "deny"):
        shown = repr(effect) if isinstance(effect, str) and len(effect) < 20 else _type(effect)
        raise PolicyDocumentError(f'{where}.Effect must be "Allow" or "Deny", found {shown}')
    principals, not_principal = _principals(item, where, trust)
    actions, not_action = _one_of(item, "Action", "NotAction", where, required=True)
    resources, not_resource = _one_of(item, "Resource", "NotResource", where, required=False)
    return Statement(
        index=index,
        effect=effect.capitalize(),
        principals=principals,
        not_principal=not_principal,
        actions=actions,
        not_action=not_action,
        resources=resources or ("*",),
        not_resource=not_resource,
        conditions=_conditions(item.get("Condition"), f"{where}.Condition"),
        raw=json.dumps(item, sort_keys=False, default=str),
    )


def _principals(item: dict[str, Any], where: str, trust: bool) -> tuple[tuple[Principal, ...], bool]:
    has_p, has_np = "Principal" in item, "NotPrincipal" in item
    if has_p and has_np:
        raise PolicyDocumentError(f"{where} has both Principal and NotPrincipal")
    if not (has_p or has_np):
        if trust:
            raise PolicyDocumentError(f"{where} has no Principal (a trust policy must name who may assume the role)")
        return (), False
    name = "Principal" if has_p else "NotPrincipal"
    value = item[name]
    if value == "*":
        return (Principal("*", "*", shape="wildcard"),), has_np
    if not isinstance(value, dict) or not value:
        raise PolicyDocumentError(f'{where}.{name} must be "*" or an object like {{"AWS": ...}}, found {_type(value)}')
    out = []
    for ptype, raw in value.items():
        canonical = _PRINCIPAL_TYPES.get(str(ptype).lower(), str(ptype))
        for v in _strings(raw, f"{where}.{name}.{ptype}"):
            out.append(parse_principal(canonical, v))
    return tuple(out), has_np


def _one_of(
    item: dict[str, Any], name: str, not_name: str, where: str, *, required: bool
) -> tuple[tuple[str, ...], bool]:
    if name in item and not_name in item:
        raise PolicyDocumentError(f"{where} has both {name} and {not_name}")
    if name in item:
        return _strings(item[name], f"{where}.{name}"), False
    if not_name in item:
        return _strings(item[not_name], f"{where}.{not_name}"), True
    if required:
        raise PolicyDocumentError(f"{where} has neither {name} nor {not_name}")
    return (), False


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value:
        for i, v in enumerate(value):
            if not isinstance(v, str):
                raise PolicyDocumentError(f"{where}[{i}] must be a string, found {_type(v)}")
        return tuple(value)
    raise PolicyDocumentError(f"{where} must be a string or a non-empty list of strings, found {_type(value)}")


def _conditions(value: Any, where: str) -> tuple[Condition, ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise PolicyDocumentError(f"{where} must be an object, found {_type(value)}")
    out = []
    for operator, block in value.items():
        if not isinstance(block, dict):
            raise PolicyDocumentError(f"{where}.{operator} must be an object of condition keys, found {_type(block)}")
        for key, raw in block.items():
            out.append(Condition(str(operator), str(key), _condition_values(raw, f"{where}.{operator}.{key}")))
    return tuple(out)


def _condition_values(value: Any, where: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise PolicyDocumentError(f"{where} is an empty list")
    out = []
    for i, v in enumerate(items):
        if isinstance(v, bool):
            out.append("true" if v else "false")
        elif isinstance(v, (str, int, float)):
            out.append(str(v))
        else:
            suffix = f"[{i}]" if isinstance(value, list) else ""
            raise PolicyDocumentError(f"{where}{suffix} must be a string, number or boolean, found {_type(v)}")
    return tuple(out)


def _type(value: Any) -> str:
    names = {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        type(None): "null",
    }
    return names.get(type(value), type(value).__name__)
