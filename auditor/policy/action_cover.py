"""Is every action an action pattern can name inside what a role's policies allow?

Datadog's permission list has entries such as `dynamodb:List*`: the role covers such an entry only
if its policies allow every action the entry matches, now and when AWS adds one. That is language
inclusion between wildcard patterns, decided exactly here: every pattern (the entry and each policy
pattern) runs as the automaton of `auditor.policy.glob` (its bit set of states is already the
subset construction of the pattern's NFA), and their product is explored breadth first over the
characters the patterns name plus one character standing for all the others. A product state where
the entry accepts and the policies do not is a counterexample, and breadth first makes it the
shortest one. Case is ignored, as IAM ignores it in action names.

The product is bounded by `max_states`: pattern text comes from customer policies, so a pattern
built to blow the product up ends in `Undecided`, never in unbounded work.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from functools import lru_cache

from auditor.policy.glob import STAR, Wild, _Glob, compile_glob, parse_pattern

MAX_STATES = 4096  # product states kept before giving up; real policies need a few dozen
MAX_WORK = 400_000  # automaton steps (states x characters x patterns) before giving up: well under a second
_OTHER_CANDIDATES = "xzqjkvwy0123456789"


class Undecided(Exception):
    """The product of the patterns grew past the state cap: inclusion was not decided."""


@dataclass(frozen=True)
class ActionSet:
    """The actions one statement's Action (or NotAction) element names."""

    patterns: tuple[str, ...]
    negated: bool = False  # NotAction: every action none of the patterns matches


def has_wildcard(pattern: str) -> bool:
    return "*" in pattern or "?" in pattern


def may_overlap(pattern: str, entry: str) -> bool:
    """False when the two patterns' fixed starts differ, so they match no action in common (another
    service's patterns): a string test that spares the automata most of a policy."""
    p, q = _literal_prefix(pattern), _literal_prefix(entry)
    return p.startswith(q) or q.startswith(p)


def relevant(entry: str, sets: tuple[ActionSet, ...]) -> tuple[ActionSet, ...]:
    """`sets` as far as they concern `entry`: the patterns that may overlap it; a set left with none
    holds none of its actions (dropped) or, negated, all of them (`*`). The result is the same for
    every account whose policies name the same patterns for this service: a cache key that repeats."""
    out: list[ActionSet] = []
    for s in sets:
        kept = tuple(p for p in s.patterns if may_overlap(p, entry))
        if kept:
            out.append(ActionSet(kept, s.negated))
        elif s.negated:
            out.append(ActionSet(("*",)))
    return tuple(dict.fromkeys(out))


def uncovered_example(
    entry: str,
    required: tuple[tuple[ActionSet, ...], ...],
    forbidden: tuple[ActionSet, ...] = (),
    *,
    max_states: int = MAX_STATES,
) -> str | None:
    """An action name `entry` matches that is not allowed, or None when there is none.

    Allowed means: for every group of `required`, some set of the group holds the action (the
    identity policies' Allow statements are one group, a permissions boundary's another), and no set
    of `forbidden` holds it (unconditional Deny statements). Raises Undecided past `max_states` states
    or MAX_WORK automaton steps."""
    return _uncovered(entry, required, forbidden, max_states)


def overlap_example(entry: str, pattern: str, *, max_states: int = MAX_STATES) -> str | None:
    """An action name both patterns match, or None when they match none in common."""
    return _uncovered(entry, (), (ActionSet((pattern,)),), max_states)


@lru_cache(maxsize=8192)  # the same role policy meets the same entries in every account
def _uncovered(entry: str, required: tuple[tuple[ActionSet, ...], ...], forbidden: tuple[ActionSet, ...],
               max_states: int) -> str | None:
    entry_prefix = _literal_prefix(entry)
    patterns: list[str] = [entry]
    index: dict[str, int] = {entry.lower(): 0}

    def slot(p: str) -> int | None:
        # A pattern whose fixed start differs from the entry's matches none of the entry's actions:
        # it stays out of the product (the most common case: another service's patterns).
        q = _literal_prefix(p)
        if not (q.startswith(entry_prefix) or entry_prefix.startswith(q)):
            return None
        key = p.lower()
        if key not in index:
            index[key] = len(patterns)
            patterns.append(p)
        return index[key]

    def compiled(s: ActionSet) -> tuple[tuple[int, ...], bool]:
        return tuple(i for p in s.patterns if (i := slot(p)) is not None), s.negated

    groups = [tuple(compiled(s) for s in group) for group in required]
    denies = [compiled(s) for s in forbidden]
    globs = [compile_glob(_tokens(p), True, False) for p in patterns]
    accepts = [g.accept for g in globs]

    def holds(state: tuple[int, ...], s: tuple[tuple[int, ...], bool]) -> bool:
        members, negated = s
        return any(state[i] & accepts[i] for i in members) != negated

    def allowed(state: tuple[int, ...]) -> bool:
        return all(any(holds(state, s) for s in group) for group in groups) and not any(
            holds(state, s) for s in denies)

    alphabet = _alphabet(patterns)
    start = tuple(g.start() for g in globs)
    parent: dict[tuple[int, ...], tuple[tuple[int, ...], str] | None] = {start: None}
    queue = deque([start])
    work, step_cost = 0, len(globs) * len(alphabet)
    while queue:
        state = queue.popleft()
        if state[0] & accepts[0] and not allowed(state):
            return _spelled(_word(parent, state), entry, patterns)
        work += step_cost
        if work > MAX_WORK:
            raise Undecided(f"more than {MAX_WORK} automaton steps comparing {entry!r} with the policies")
        for ch in alphabet:
            nxt = _step(globs, state, ch)
            if not nxt[0] or nxt in parent:
                continue  # the entry matches nothing below `nxt`, or it was seen
            if len(parent) >= max_states:
                raise Undecided(f"more than {max_states} states comparing {entry!r} with the policies")
            parent[nxt] = (state, ch)
            queue.append(nxt)
    return None


def _step(globs: list[_Glob], state: tuple[int, ...], ch: str) -> tuple[int, ...]:
    return tuple(g.run(ch, s)[0] if s else 0 for g, s in zip(globs, state, strict=True))


def _word(parent: dict[tuple[int, ...], tuple[tuple[int, ...], str] | None], state: tuple[int, ...]) -> str:
    chars: list[str] = []
    link = parent[state]
    while link is not None:
        state, ch = link
        chars.append(ch)
        link = parent[state]
    return "".join(reversed(chars))


def _spelled(word: str, entry: str, patterns: list[str]) -> str:
    """The counterexample as a person would write it: as a policy pattern spells it when one names
    exactly that action, else with the entry's fixed start as the entry writes it."""
    for p in patterns[1:]:
        if p.lower() == word and not has_wildcard(p):
            return p
    start = len(_literal_prefix(entry))
    return entry[:start] + word[start:] if word.startswith(entry[:start].lower()) else word


def _alphabet(patterns: list[str]) -> tuple[str, ...]:
    """One character per class the patterns tell apart: each literal character, case folded, and one
    that no pattern names."""
    seen: dict[str, str] = {}
    for p in patterns:
        for t in _tokens(p):
            if isinstance(t, str):
                for ch in t:
                    low = ch.lower()  # one character, unless Unicode folds it to two: keep it whole
                    seen.setdefault(low, low if len(low) == 1 else ch)
    other = next((c for c in _OTHER_CANDIDATES if c not in seen), None)
    code = 0xE000
    while other is None:  # every candidate is named: a private-use character no policy names
        other = chr(code) if chr(code) not in seen else None
        code += 1
    return (*seen.values(), other)


@lru_cache(maxsize=16384)
def _tokens(pattern: str) -> tuple[str | Wild, ...]:
    # Action patterns take no policy variables (variables=False), so every token is text or a wildcard.
    return tuple(t for t in parse_pattern(pattern, wildcards=True, variables=False).tokens if isinstance(t, str | Wild))


@lru_cache(maxsize=16384)
def _literal_prefix(pattern: str) -> str:
    """The case-folded text before the first wildcard."""
    out = []
    for t in _tokens(pattern):
        if isinstance(t, Wild):
            break
        out.append(t)
    return "".join(out).lower()


def star_covers(pattern: str, entry: str) -> bool:
    """A quick sufficient test: `pattern` is `prefix*` (no other wildcard) and the entry's fixed start
    begins with that prefix, so the pattern matches everything the entry can."""
    toks = _tokens(pattern)
    if not toks or toks[-1] != STAR or any(isinstance(t, Wild) for t in toks[:-1]):
        return False
    return _literal_prefix(entry).startswith(_literal_prefix(pattern))
