"""Condition operators, with AWS's rules for missing keys, set qualifiers and negation.

Several values of one key are OR-ed (NOR under a negated operator). A key missing from the
request makes positive operators false and negated ones true, `...IfExists` true, and
`ForAllValues` true / `ForAnyValue` false; `Null` tests presence. A key whose value the
auditor cannot know gives `unknown` naming the key; a key that may be absent but whose value
is known if present (`Lookup.values` of an UNKNOWN key) is decided when both give one answer.
A policy variable whose key is absent (and has no default) has no value: AWS's "there is no
equal or like value", so that policy value matches nothing, and a negated operator is true
against it (IAM User Guide, "Policy variables with no value"); in Resource it names no resource.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

from auditor.policy.context import (
    ABSENT,
    Context,
    Lookup,
    Presence,
    Truth,
    all_of,
    any_of,
    false,
    negate,
    unknown,
)
from auditor.policy.glob import Pattern, Token, Var, glob_match, substitute
from auditor.policy.model import Condition
from auditor.policy.values import parse_binary, parse_date, parse_network, parse_number

Matcher = Callable[[str, tuple[Token, ...], Condition], bool]


# Condition answers shared by many requests: (id(condition), lookup of its key) -> answer.
ConditionMemo = dict[tuple[int, Lookup], Truth]


def evaluate_conditions(conditions: tuple[Condition, ...], ctx: Context, memo: ConditionMemo | None = None) -> Truth:
    """All (operator, key) pairs of a statement, AND-ed.

    `memo` (kept by the caller for as long as the conditions live): a condition without policy
    variables reads nothing but its key's value, so its answer, words included, is remembered per value.
    """
    if memo is None:
        results = [evaluate_condition(c, ctx) for c in conditions]
    else:
        results = [remembered(c, ctx, memo) for c in conditions]
    return all_of(results, "; ".join(r.why for r in results))


def remembered(cond: Condition, ctx: Context, memo: ConditionMemo) -> Truth:
    """`evaluate_condition`, answered from `memo` when the condition has no policy variables."""
    if any(p.has_vars for p in cond.patterns):
        return evaluate_condition(cond, ctx)
    key = (id(cond), ctx.lookup(cond.key_lc))
    answer = memo.get(key)
    if answer is None:
        answer = memo[key] = evaluate_condition(cond, ctx)
    return answer


def evaluate_condition(cond: Condition, ctx: Context) -> Truth:
    look = ctx.lookup(cond.key_lc)
    shown = f"{cond.operator} {{{cond.key}: {_values(cond)}}}"
    if look.presence is Presence.UNKNOWN and look.values:
        return _absent_or_present(cond, look, ctx, shown)
    return _evaluate(cond, look, ctx, shown)


def _absent_or_present(cond: Condition, look: Lookup, ctx: Context, shown: str) -> Truth:
    """A key that is either absent or present with `look.values`: decided when both give one answer."""
    gone = _evaluate(cond, ABSENT, ctx, shown)
    there = _evaluate(cond, Lookup(Presence.PRESENT, look.values), ctx, shown)
    possible = f"{cond.key} may be absent or {', '.join(repr(v) for v in look.values)}"
    if gone.value is not None and gone.value == there.value:
        return Truth(gone.value, f"{shown}: {possible}; {gone.word} either way")
    return unknown({cond.key} | gone.unknown | there.unknown, f"{shown}: {possible} -> unknown")


def _evaluate(cond: Condition, look: Lookup, ctx: Context, shown: str) -> Truth:
    if cond.family == "null":
        if look.presence is Presence.UNKNOWN:
            return unknown([cond.key], f"{shown}: cannot tell whether {cond.key} is in the request -> unknown")
        is_absent = look.presence is Presence.ABSENT
        matched = any((v == "true") == is_absent for v in cond.values)
        state = "absent" if is_absent else "present"
        return Truth(matched, f"{shown}: {cond.key} is {state} -> {str(matched).lower()}")
    if look.presence is Presence.ABSENT:
        if cond.if_exists:
            return Truth(True, f"{shown}: {cond.key} is absent, IfExists -> true")
        if cond.qualifier == "ForAllValues":
            return Truth(True, f"{shown}: {cond.key} is absent, ForAllValues -> true")
        if cond.qualifier == "ForAnyValue":
            return Truth(False, f"{shown}: {cond.key} is absent, ForAnyValue -> false")
        kind = "negated operator" if cond.negated else "positive operator"
        return Truth(cond.negated, f"{shown}: {cond.key} is absent, {kind} -> {str(cond.negated).lower()}")
    if look.presence is not Presence.PRESENT:
        return unknown([cond.key], f"{shown}: {cond.key} is {look.presence.value} to the auditor -> unknown")
    patterns = [resolve_pattern(p, ctx) for p in cond.patterns]
    matcher = _MATCHERS[cond.family]

    def matches(value: str) -> Truth:
        return any_of(p if isinstance(p, Truth) else Truth(matcher(value, p, cond)) for p in patterns)

    req = look.values
    if cond.qualifier == "ForAllValues":
        result = all_of(negate(matches(v)) if cond.negated else matches(v) for v in req)
    elif cond.qualifier == "ForAnyValue":
        result = any_of(negate(matches(v)) if cond.negated else matches(v) for v in req)
    else:
        hit = any_of(matches(v) for v in req)
        result = negate(hit) if cond.negated else hit
    req_shown = ", ".join(repr(v) for v in req)
    notes = "".join(f" ({p.why})" for p in patterns if isinstance(p, Truth) and p.why)
    return Truth(result.value, f"{shown}: {cond.key} = {req_shown}{notes} -> {result.word}", result.unknown)


def _values(cond: Condition) -> str:
    vals = ", ".join(repr(v) for v in cond.values)
    return vals if len(cond.values) == 1 else f"[{vals}]"


def resolve_pattern(pattern: Pattern, ctx: Context) -> tuple[Token, ...] | Truth:
    """The pattern with policy variables filled in; false when a variable has no value (the pattern
    matches nothing), unknown when the auditor cannot tell a variable's value."""
    if not pattern.has_vars:
        return pattern.tokens
    filled: dict[str, str] = {}
    for t in pattern.tokens:
        if not isinstance(t, Var):
            continue
        look = ctx.lookup(t.key)
        if look.presence is Presence.PRESENT and len(look.values) == 1:
            filled[t.key] = look.values[0]
        elif look.presence is Presence.ABSENT and t.default is not None:
            filled[t.key] = t.default
        elif look.presence is Presence.ABSENT:
            # No value: "there is no equal or like value" -- the pattern matches nothing.
            return false(f"policy variable {t.raw} has no value ({t.key} is absent): {pattern.raw!r} matches nothing")
        else:
            # Unknown, its value unseen, or multi-valued (AWS substitutes single-valued keys only): no guess.
            shown = "multi-valued" if look.presence is Presence.PRESENT else look.presence.value
            return unknown([t.key], f"policy variable {t.raw} cannot be resolved ({shown})")
    return substitute(pattern.tokens, filled)


def _text(tokens: tuple[Token, ...]) -> str:
    return "".join(t if isinstance(t, str) else getattr(t, "char", "") for t in tokens)


def _string(value: str, tokens: tuple[Token, ...], cond: Condition) -> bool:
    return value == _text(tokens)


def _string_ic(value: str, tokens: tuple[Token, ...], cond: Condition) -> bool:
    return value.lower() == _text(tokens).lower()


def _string_like(value: str, tokens: tuple[Token, ...], cond: Condition) -> bool:
    return glob_match(tokens, value)


def _arn(value: str, tokens: tuple[Token, ...], cond: Condition) -> bool:
    return glob_match(tokens, value, arn=True)


Ordered = TypeVar("Ordered", Decimal, float)  # numbers (exact) and dates (epoch seconds)


def _compare(a: Ordered, b: Ordered, comparison: str) -> bool:
    if comparison == "eq":
        return a == b
    if comparison == "lt":
        return a < b
    if comparison == "le":
        return a <= b
    if comparison == "gt":
        return a > b
    return a >= b


def _numeric(value: str, tokens: tuple[Token, ...], cond: Condition) -> bool:
    a, b = parse_number(value), parse_number(_text(tokens))
    return a is not None and b is not None and _compare(a, b, cond.comparison)


def _date(value: str, tokens: tuple[Token, ...], cond: Condition) -> bool:
    a, b = parse_date(value), parse_date(_text(tokens))
    return a is not None and b is not None and _compare(a, b, cond.comparison)


def _bool(value: str, tokens: tuple[Token, ...], cond: Condition) -> bool:
    return value.lower() == _text(tokens).lower()


def _binary(value: str, tokens: tuple[Token, ...], cond: Condition) -> bool:
    a, b = parse_binary(value), parse_binary(_text(tokens))
    return a is not None and a == b


def _ip(value: str, tokens: tuple[Token, ...], cond: Condition) -> bool:
    network = parse_network(_text(tokens))
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return False
    return network is not None and address.version == network.version and address in network


_MATCHERS: dict[str, Matcher] = {
    "string": _string,
    "string_ic": _string_ic,
    "string_like": _string_like,
    "arn": _arn,
    "numeric": _numeric,
    "date": _date,
    "bool": _bool,
    "binary": _binary,
    "ip": _ip,
}
