"""A deliberately naive reference evaluator, written apart from auditor.policy, for differential tests.

Different on purpose: it reads the raw JSON dicts (no parser), matches wildcards with a
recursive matcher (no regex), uses Kleene logic on numbers (0 false, 0.5 unknown, 1 true:
AND = min, OR = max, NOT = 1 - x), splits ARNs into six parts instead of walking a pattern,
and can brute-force "possible worlds" for the keys it does not know.

A request is a plain dict:
    {"action": str, "region": str, "account": str, "partition": str,
     "resource": "*" or an ARN, "principal_account": str | None,
     "known": {lower key: [values]}, "absent": {lower keys}, "absent_prefixes": [lower prefixes],
     "present_unknown": {lower keys}, "maybe": {lower key: [values it has if present]}}
Any other key is unknown. A "maybe" key is evaluated both ways (absent, present): one answer or
unknown. Policy variables `${key}` / `${key, 'default'}` are replaced by text (string and ARN
operators, Resource); one whose key is absent has no value, which matches nothing.
"""

from __future__ import annotations

import functools
import itertools
import re
from typing import Any

T, F, U = 1.0, 0.0, 0.5

NEGATED = {"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals", "ArnNotLike",
           "NumericNotEquals", "DateNotEquals", "NotIpAddress"}


def as_list(x: Any) -> list[Any]:
    return x if isinstance(x, list) else [x]


@functools.lru_cache(maxsize=100_000)
def wild(pattern: str, text: str) -> bool:
    """`*` any run, `?` one character; brute-force recursion with memo."""
    memo: dict[tuple[int, int], bool] = {}

    def go(i: int, j: int) -> bool:
        if (i, j) in memo:
            return memo[(i, j)]
        if i == len(pattern):
            r = j == len(text)
        elif pattern[i] == "*":
            r = go(i + 1, j) or (j < len(text) and go(i, j + 1))
        elif j < len(text) and (pattern[i] == "?" or pattern[i] == text[j]):
            r = go(i + 1, j + 1)
        else:
            r = False
        memo[(i, j)] = r
        return r

    return go(0, 0)


def arn_wild(pattern: str, arn: str) -> bool:
    if pattern and set(pattern) == {"*"}:
        return True
    p, a = pattern.split(":", 5), arn.split(":", 5)
    if len(p) != 6 or len(a) != 6:
        return False
    return all(wild(x, y) for x, y in zip(p, a, strict=True))


def text(v: Any) -> str:
    if v is True:
        return "true"
    if v is False:
        return "false"
    return str(v)


def key_state(req: dict[str, Any], key: str) -> tuple[str, list[str]]:
    k = key.lower()
    if k in req["known"]:
        return "present", list(req["known"][k])
    if k in req.get("present_unknown", set()):
        return "present_unknown", []
    if k in req.get("absent", set()) or any(k.startswith(p) for p in req.get("absent_prefixes", [])):
        return "absent", []
    if k in req.get("maybe", {}):
        return "maybe", list(req["maybe"][k])
    return "unknown", []


NULL = object()  # a policy variable with no value
VARIABLE = re.compile(r"\$\{([^}]*)\}")
SUBSTITUTING = ("String", "Arn")  # operator families AWS fills policy variables into (and Resource)


def fill(pattern: str, req: dict[str, Any]) -> str | object | float:
    """`pattern` with its variables replaced, NULL if one has no value, U if one cannot be known."""
    out, pos = [], 0
    for m in VARIABLE.finditer(pattern):
        out.append(pattern[pos:m.start()])
        inner, default = m.group(1), None
        if "," in inner:
            inner, default = inner.split(",", 1)
            default = default.strip().strip("'")
        state, vals = key_state(req, inner.strip())
        if state == "present" and len(vals) == 1:
            assert not set(vals[0]) & set("*?"), "the reference substitutes wildcard-free values only"
            out.append(vals[0])
        elif state == "absent" and default is not None:
            out.append(default)
        elif state == "absent":
            return NULL
        else:
            return U
        pos = m.end()
    out.append(pattern[pos:])
    return "".join(out)


def one_match(op: str, value: str, pattern: str) -> bool:
    if op in ("StringEquals", "StringNotEquals"):
        return value == pattern
    if op in ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"):
        return value.lower() == pattern.lower()
    if op in ("StringLike", "StringNotLike"):
        return wild(pattern, value)
    if op in ("ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"):
        return arn_wild(pattern, value)
    if op == "Bool":
        return value.lower() == pattern.lower()
    if op in ("NumericEquals", "NumericNotEquals"):
        return float(value) == float(pattern)
    if op == "NumericLessThan":
        return float(value) < float(pattern)
    if op == "NumericGreaterThan":
        return float(value) > float(pattern)
    raise NotImplementedError(op)


def clause(operator: str, key: str, values: Any, req: dict[str, Any]) -> float:
    qualifier = ""
    if ":" in operator:
        qualifier, operator = operator.split(":", 1)
    if_exists = operator.endswith("IfExists")
    op = operator[: -len("IfExists")] if if_exists else operator
    pats = [text(v) for v in as_list(values)]
    state, vals = key_state(req, key)
    if state == "maybe":  # absent, or present with these values: decided only if both agree
        gone = judge(qualifier, op, if_exists, pats, "absent", [], req)
        there = judge(qualifier, op, if_exists, pats, "present", vals, req)
        return gone if gone == there else U
    return judge(qualifier, op, if_exists, pats, state, vals, req)


def judge(qualifier: str, op: str, if_exists: bool, pats: list[str], state: str, vals: list[str],
          req: dict[str, Any]) -> float:
    if op == "Null":
        if state == "unknown":
            return U
        absent = state == "absent"
        return T if any((p.lower() == "true") == absent for p in pats) else F
    if state == "absent":
        if if_exists or qualifier == "ForAllValues":
            return T
        if qualifier == "ForAnyValue":
            return F
        return T if op in NEGATED else F
    if state != "present":
        return U
    negated = op in NEGATED
    filled = [fill(p, req) if op.startswith(SUBSTITUTING) else p for p in pats]

    def hit(v: str) -> float:
        return max([F if p is NULL else p if isinstance(p, float) else T if one_match(op, v, p) else F
                    for p in filled], default=F)

    if qualifier == "ForAllValues":
        return min([1 - hit(v) if negated else hit(v) for v in vals], default=T)
    if qualifier == "ForAnyValue":
        return max([1 - hit(v) if negated else hit(v) for v in vals], default=F)
    any_hit = max([hit(v) for v in vals], default=F)
    return 1 - any_hit if negated else any_hit


def resource_truth(patterns: list[str], req: dict[str, Any]) -> float:
    """Resource "*" of a list call: an ARN pattern may name its resources if its first five parts fit."""
    best = F
    for raw in patterns:
        if raw == "*":
            return T
        p = fill(raw, req)
        if p is NULL:
            continue  # a variable with no value: the entry names no resource
        if isinstance(p, float):
            best = max(best, U)
            continue
        if req["resource"] != "*":
            if arn_wild(p, req["resource"]):
                return T
            continue
        parts = p.split(":", 5)
        if len(parts) < 6:
            continue
        for region in (req["region"], ""):  # global resources have no region / account in their ARN
            for account in (req["account"], ""):
                scope = ["arn", req["partition"], req["action"].split(":")[0].lower(), region, account]
                if all(wild(x, y) for x, y in zip(parts[:5], scope, strict=True)):
                    best = U
    return best


def principal_truth(st: dict[str, Any], req: dict[str, Any]) -> float:
    if "Principal" not in st and "NotPrincipal" not in st:
        return T
    raw = st.get("Principal", st.get("NotPrincipal"))
    hit = F
    if raw == "*":
        hit = T
    else:
        for v in as_list(raw.get("AWS", [])):
            root = f"arn:{req['partition']}:iam::{req['principal_account']}:root"
            if v in ("*", req["principal_account"], root):
                hit = T
    return 1 - hit if "NotPrincipal" in st else hit


def statement(st: dict[str, Any], req: dict[str, Any]) -> float:
    if "Action" in st:
        acted = any(wild(a.lower(), req["action"].lower()) for a in as_list(st["Action"]))
    else:
        acted = not any(wild(a.lower(), req["action"].lower()) for a in as_list(st["NotAction"]))
    if not acted:
        return F
    if "NotResource" in st:
        res = 1 - resource_truth(as_list(st["NotResource"]), req)
    else:
        res = resource_truth(as_list(st.get("Resource", "*")), req)
    parts = [res, principal_truth(st, req)]
    for operator, block in st.get("Condition", {}).items():
        for key, values in block.items():
            parts.append(clause(operator, key, values, req))
    return min(parts)


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    return as_list(document["Statement"])


def scp(levels: list[list[dict[str, Any]]], req: dict[str, Any]) -> str:
    denied = max([statement(s, req) for lvl in levels for d in lvl for s in statements(d) if s["Effect"] == "Deny"],
                 default=F)
    allows = [max([statement(s, req) for d in lvl for s in statements(d) if s["Effect"] == "Allow"], default=F)
              for lvl in levels]
    if denied == T or min(allows, default=T) == F:
        return "denied"
    if denied == F and min(allows, default=T) == T:
        return "allowed"
    return "indeterminate"


def rcp(levels: list[list[dict[str, Any]]], req: dict[str, Any]) -> str:
    denied = max([statement(s, req) for lvl in levels for d in lvl for s in statements(d) if s["Effect"] == "Deny"],
                 default=F)
    return {T: "denied", F: "allowed"}.get(denied, "indeterminate")


def worlds(req: dict[str, Any], unknown_keys: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Every way the unknown keys could be: absent (if presence is unknown) or one of the values."""
    options = []
    for key, pool in unknown_keys.items():
        state, _ = key_state(req, key)
        if state == "unknown":
            options.append([(key, None)] + [(key, v) for v in pool])
        elif state == "present_unknown":
            options.append([(key, v) for v in pool])
        elif state == "maybe":
            options.append([(key, None)] + [(key, v) for v in req["maybe"][key.lower()]])
    out = []
    for combo in itertools.product(*options):
        w = {**req, "known": dict(req["known"]), "absent": set(req.get("absent", set())),
             "present_unknown": set(req.get("present_unknown", set())), "maybe": dict(req.get("maybe", {}))}
        for key, v in combo:
            w["present_unknown"].discard(key.lower())
            w["maybe"].pop(key.lower(), None)
            if v is None:
                w["absent"].add(key.lower())
            else:
                w["known"][key.lower()] = [v]
        out.append(w)
    return out
