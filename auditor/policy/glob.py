"""Wildcard patterns as IAM writes them: `*` and `?`, policy variables `${key}`.

A pattern is parsed once into tokens. Variables are substituted per request; what is left
is compiled to a regular expression (cached), or walked as a small automaton when the
question is "can this pattern match some string that starts with ...?" (resource scopes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache


@dataclass(frozen=True)
class Wild:
    """A wildcard token: `*` (any run of characters) or `?` (one character)."""

    char: str


STAR = Wild("*")
QMARK = Wild("?")


@dataclass(frozen=True)
class Var:
    key: str  # lower-case condition key
    default: str | None  # ${key, 'default'}
    raw: str


Token = str | Var | Wild  # literal text, a wildcard or a variable

_VAR = re.compile(r"\$\{([^}]*)\}")
_DEFAULT = re.compile(r"^\s*([^,\s]+)\s*,\s*'([^']*)'\s*$")
_SPECIAL = {"*": "*", "?": "?", "$": "$"}


@dataclass(frozen=True)
class Pattern:
    raw: str
    tokens: tuple[Token, ...]
    wildcards: bool

    @cached_property
    def has_vars(self) -> bool:  # asked for every condition of every request: computed once
        return any(isinstance(t, Var) for t in self.tokens)

    @property
    def literal(self) -> str | None:
        """The text when there is nothing to substitute or expand."""
        if all(isinstance(t, str) for t in self.tokens):
            return "".join(self.tokens)  # type: ignore[arg-type]
        return None


def parse_pattern(raw: str, *, wildcards: bool, variables: bool) -> Pattern:
    """Tokens of `raw`. `${*}`, `${?}`, `${$}` stand for the literal character."""
    tokens: list[Token] = []
    pos = 0
    if variables:
        for m in _VAR.finditer(raw):
            _add_text(tokens, raw[pos:m.start()], wildcards)
            inner = m.group(1)
            if inner in _SPECIAL:
                _add_literal(tokens, _SPECIAL[inner])
            else:
                d = _DEFAULT.match(inner)
                key, default = (d.group(1), d.group(2)) if d else (inner.strip(), None)
                tokens.append(Var(key.lower(), default, m.group(0)))
            pos = m.end()
    _add_text(tokens, raw[pos:], wildcards)
    return Pattern(raw, tuple(tokens), wildcards)


def _add_literal(tokens: list[Token], text: str) -> None:
    if not text:
        return
    if tokens and isinstance(tokens[-1], str):
        tokens[-1] = tokens[-1] + text
    else:
        tokens.append(text)


def _add_text(tokens: list[Token], text: str, wildcards: bool) -> None:
    if not wildcards:
        _add_literal(tokens, text)
        return
    for part in re.split(r"([*?])", text):
        if part == "*":
            if not tokens or tokens[-1] != STAR:
                tokens.append(STAR)
        elif part == "?":
            tokens.append(QMARK)
        else:
            _add_literal(tokens, part)


def substitute(tokens: tuple[Token, ...], values: dict[str, str]) -> tuple[Token, ...]:
    """Tokens with variables replaced by literal text (`values` covers every variable)."""
    out: list[Token] = []
    for t in tokens:
        if isinstance(t, Var):
            _add_literal(out, values[t.key])
        elif isinstance(t, Wild):
            out.append(t)
        else:
            _add_literal(out, t)
    return tuple(out)


@lru_cache(maxsize=65536)
def compile_tokens(tokens: tuple[Token, ...], ignore_case: bool, arn: bool) -> re.Pattern[str]:
    """Full-match regex. With `arn`, wildcards do not cross `:` before the resource part."""
    parts: list[str] = []
    colons = 0
    for t in tokens:
        if t == STAR:
            parts.append(".*" if not arn or colons >= 5 else "[^:]*")
        elif t == QMARK:
            parts.append("." if not arn or colons >= 5 else "[^:]")
        elif isinstance(t, Var):
            raise ValueError(f"unsubstituted policy variable {t.raw}")
        else:
            parts.append(re.escape(t))
            colons += t.count(":")
    return re.compile("".join(parts), (re.IGNORECASE if ignore_case else 0) | re.DOTALL)


def glob_match(tokens: tuple[Token, ...], value: str, *, ignore_case: bool = False, arn: bool = False) -> bool:
    if arn and all(t == STAR for t in tokens) and tokens:
        return True  # a bare "*" covers every ARN
    return compile_tokens(tokens, ignore_case, arn).fullmatch(value) is not None


def can_match_with_prefix(tokens: tuple[Token, ...], prefix: str, *, arn: bool = True) -> bool:
    """Whether some string starting with `prefix` matches the pattern (an NFA walk)."""
    if arn and tokens and all(t == STAR for t in tokens):
        return True
    atoms: list[tuple[str | Wild, bool]] = []  # (char or wildcard, may the wildcard match ':')
    colons = 0
    for t in tokens:
        if isinstance(t, Wild):
            atoms.append((t, not arn or colons >= 5))
        elif isinstance(t, Var):
            raise ValueError(f"unsubstituted policy variable {t.raw}")
        else:
            for ch in t:
                atoms.append((ch, True))
                colons += ch == ":"
    states = _closure({0}, atoms)
    for ch in prefix:
        nxt: set[int] = set()
        for s in states:
            if s >= len(atoms):
                continue
            atom, crosses = atoms[s]
            if atom == STAR:
                if ch != ":" or crosses:
                    nxt.add(s)
            elif atom == QMARK:
                if ch != ":" or crosses:
                    nxt.add(s + 1)
            elif atom == ch:
                nxt.add(s + 1)
        states = _closure(nxt, atoms)
        if not states:
            return False
    return bool(states)


def _closure(states: set[int], atoms: list[tuple[str | Wild, bool]]) -> set[int]:
    out = set(states)
    todo = list(states)
    while todo:
        s = todo.pop()
        if s < len(atoms) and atoms[s][0] == STAR and s + 1 not in out:
            out.add(s + 1)
            todo.append(s + 1)
    return out


def show(tokens: tuple[Token, ...]) -> str:
    return "".join(t.raw if isinstance(t, Var) else t.char if isinstance(t, Wild) else t for t in tokens)
