"""The request as the evaluator sees it, and three-valued answers.

A condition key is, for a given request, either present with known values, known to be
absent, present with a value the auditor cannot know (sts:ExternalId: Datadog sends one,
which we do not see), or unknown altogether (aws:SourceIp). An unknown key may still be
known to carry given values if it is there at all (`maybe`: absent or 'false'); a condition
is then decided when both possibilities give the same answer. Which key is in which class
for Datadog's requests, and why, is auditor/policy/request_keys.py. Answers are `Truth`:
true, false or unknown, the unknown ones naming the keys that would decide them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum


class Presence(Enum):
    PRESENT = "present"
    ABSENT = "absent"
    PRESENT_UNKNOWN_VALUE = "present, value unknown"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Lookup:
    """What a request says of one key. `values`: the key's values when PRESENT; for UNKNOWN, the values
    it would have if present (empty: anything)."""

    presence: Presence
    values: tuple[str, ...] = ()


ABSENT = Lookup(Presence.ABSENT)
UNKNOWN = Lookup(Presence.UNKNOWN)
PRESENT_UNKNOWN_VALUE = Lookup(Presence.PRESENT_UNKNOWN_VALUE)


@dataclass(frozen=True)
class Context:
    """Condition keys of one request. Keys are matched case-insensitively.

    `values`: present keys (lower-case) and their values; `absent`: keys known not to be in
    the request; `absent_prefixes`: key families (`aws:principaltag/`) whose members not in
    `values` are absent; `present_unknown`: keys sent with a value the auditor cannot see;
    `maybe`: keys that may be absent and, if present, have these values. Any other key is
    unknown. `reasons` (optional, for `auditor explain`): why each key is in its class.
    """

    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    absent: frozenset[str] = frozenset()
    absent_prefixes: tuple[str, ...] = ()
    present_unknown: frozenset[str] = frozenset()
    maybe: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    reasons: KeyReasons | None = None

    def lookup(self, key_lc: str) -> Lookup:
        found = self.values.get(key_lc)
        if found is not None:
            return Lookup(Presence.PRESENT, found)
        if key_lc in self.present_unknown:
            return PRESENT_UNKNOWN_VALUE
        if key_lc in self.absent or any(key_lc.startswith(p) for p in self.absent_prefixes):
            return ABSENT
        maybe = self.maybe.get(key_lc)
        return UNKNOWN if maybe is None else Lookup(Presence.UNKNOWN, maybe)

    def signature(self, key_lc: str) -> tuple[object, ...] | Presence:
        """What `lookup` says of the key, as cheaply built and hashed: a present key's values, else its
        presence (with the values an unknown key would have). Equal signatures mean equal lookups (memo
        keys read per request and statement)."""
        found = self.values.get(key_lc)
        if found is not None:
            return found
        look = self.lookup(key_lc)
        return (look.presence, *look.values) if look.values else look.presence

    def why(self, key_lc: str) -> str:
        """Why the key is in its class for this request ("" when nobody said)."""
        return self.reasons.why(key_lc) if self.reasons is not None else ""

    def describe(self, key_lc: str) -> str:
        found = self.lookup(key_lc)
        if found.presence is Presence.PRESENT:
            return _shown(found.values)
        if found.values:
            return f"{found.presence.value} (absent, or {_shown(found.values)})"
        return str(found.presence.value)  # mypy types .value of a narrowed enum as Any


class KeyReasons:
    """Why each key of a request is in its class: exact keys, then key families (prefixes)."""

    def __init__(self, exact: Mapping[str, str], families: Mapping[str, str], other: str = "") -> None:
        self._exact = {k.lower(): v for k, v in exact.items()}
        self._families = tuple((p.lower(), v) for p, v in families.items())
        self._other = other

    def why(self, key_lc: str) -> str:
        found = self._exact.get(key_lc)
        if found is not None:
            return found
        return next((v for p, v in self._families if key_lc.startswith(p)), self._other)


def _shown(values: tuple[str, ...]) -> str:
    shown = ", ".join(repr(v) for v in values)
    return shown if len(values) == 1 else f"[{shown}]"


def make_context(
    values: Mapping[str, str | Iterable[str]],
    *,
    absent: Iterable[str] = (),
    absent_prefixes: Iterable[str] = (),
    present_unknown: Iterable[str] = (),
    maybe: Mapping[str, str | Iterable[str]] | None = None,
    reasons: KeyReasons | None = None,
) -> Context:
    """A Context from keys in any case; a string value is one value, an iterable several."""
    return Context(
        values=_lowered(values),
        absent=frozenset(k.lower() for k in absent),
        absent_prefixes=tuple(p.lower() for p in absent_prefixes),
        present_unknown=frozenset(k.lower() for k in present_unknown),
        maybe=_lowered(maybe or {}),
        reasons=reasons,
    )


def _lowered(values: Mapping[str, str | Iterable[str]]) -> dict[str, tuple[str, ...]]:
    return {k.lower(): ((v,) if isinstance(v, str) else tuple(v)) for k, v in values.items()}


@dataclass(frozen=True)
class Truth:
    """True, False or None (unknown: `unknown` names the keys that would decide it)."""

    value: bool | None
    why: str = ""
    unknown: frozenset[str] = frozenset()

    @property
    def is_true(self) -> bool:
        return self.value is True

    @property
    def is_false(self) -> bool:
        return self.value is False

    @property
    def is_unknown(self) -> bool:
        return self.value is None

    @property
    def word(self) -> str:
        return {True: "true", False: "false", None: "unknown"}[self.value]


def true(why: str = "") -> Truth:
    return Truth(True, why)


def false(why: str = "") -> Truth:
    return Truth(False, why)


def unknown(keys: Iterable[str], why: str = "") -> Truth:
    return Truth(None, why, frozenset(keys))


def negate(t: Truth, why: str = "") -> Truth:
    return Truth(None if t.value is None else not t.value, why or t.why, t.unknown)


def all_of(items: Iterable[Truth], why: str = "") -> Truth:
    """AND: false as soon as one is false, whatever the unknown ones are."""
    return _kleene(items, False, why)


def any_of(items: Iterable[Truth], why: str = "") -> Truth:
    """OR: true as soon as one is true, whatever the unknown ones are."""
    return _kleene(items, True, why)


def _kleene(items: Iterable[Truth], absorbing: bool, why: str) -> Truth:
    """Three-valued AND (absorbing False) or OR (absorbing True): unknown only if nothing absorbs."""
    keys: set[str] = set()
    undecided = False
    for t in items:
        if t.value is absorbing:
            return Truth(absorbing, why or t.why)
        if t.value is None:
            undecided = True
            keys |= t.unknown
    return Truth(None, why, frozenset(keys)) if undecided else Truth(not absorbing, why)
