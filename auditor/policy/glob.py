"""Wildcard patterns as IAM writes them: `*` and `?`, policy variables `${key}`.

A pattern is parsed once into tokens. Variables are substituted per request; what is left
is compiled (cached) to a small automaton that reads the value once: no backtracking, so no
policy text can make matching slow. The same automaton answers "can this pattern match some
string that starts with ...?" (resource scopes).
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
        texts = [t for t in self.tokens if isinstance(t, str)]
        return "".join(texts) if len(texts) == len(self.tokens) else None


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


@dataclass(frozen=True)
class _Glob:
    """A pattern as a bit-parallel automaton (no backtracking). State i: the first i atoms are
    matched; bit i of an int is state i. A value is read once, one character at a time, and each
    character costs a dict lookup and a few big-int operations over len(atoms) + 1 bits: the work
    is bounded by (atoms + 1) x (characters + 1) whatever the pattern (issue 13: `?*?*...x` never
    finished as a backtracking regex)."""

    width: int  # atoms + 1
    ignore_case: bool
    literals: dict[str, int]  # character (lower-cased with ignore_case) -> literal atoms that match it
    any_char: int  # `?` atoms
    any_colon: int  # `?` atoms that may match ':' (all but the ARN's first five fields)
    stars: int  # `*` atoms
    stars_colon: int  # `*` atoms that may match ':'
    literal: str | None  # the pattern's text when it has no wildcard
    # The text between stars when every wildcard is a `*` that may match anything (action names,
    # `arn:aws:s3:::bucket/*`): matched greedily with C string searches, in at most the same work.
    segments: tuple[str, ...] | None

    @property
    def accept(self) -> int:
        return 1 << (self.width - 1)

    def start(self) -> int:
        return self._closure(1)

    def _closure(self, states: int) -> int:
        # Adjacent stars are merged when compiled: one step covers every run of stars.
        return states | ((states & self.stars) << 1)

    def run(self, value: str, states: int) -> tuple[int, int]:
        """States after reading `value` from `states`, and the work done (atom visits: width per
        character, plus width to compile)."""
        work = self.width
        literals, ignore_case = self.literals, self.ignore_case
        for ch in value:
            if not states:
                break
            colon = ch == ":"
            advance = literals.get(ch.lower() if ignore_case else ch, 0) | (self.any_colon if colon else self.any_char)
            stay = self.stars_colon if colon else self.stars
            states = self._closure(((states & advance) << 1) | (states & stay))
            work += self.width
        return states, work


@lru_cache(maxsize=65536)
def compile_glob(tokens: tuple[Token, ...], ignore_case: bool, arn: bool) -> _Glob:
    """The automaton of `tokens`. With `arn`, wildcards do not cross `:` before the resource part."""
    atoms: list[tuple[Wild | str, bool]] = []
    colons = 0
    for t in tokens:
        if isinstance(t, Wild):
            if t == STAR and atoms and atoms[-1][0] == STAR:
                continue  # `**` is `*` (a substituted empty variable can leave two side by side)
            atoms.append((t, not arn or colons >= 5))
        elif isinstance(t, Var):
            raise ValueError(f"unsubstituted policy variable {t.raw}")
        else:
            atoms.extend((ch, True) for ch in t)
            colons += t.count(":")
    literals: dict[str, int] = {}
    masks = {"any": 0, "any_colon": 0, "stars": 0, "stars_colon": 0}
    for i, (atom, crosses) in enumerate(atoms):
        bit = 1 << i
        if isinstance(atom, str):
            key = atom.lower() if ignore_case else atom
            literals[key] = literals.get(key, 0) | bit
            continue
        kind = "stars" if atom == STAR else "any"
        masks[kind] |= bit
        if crosses:
            masks[kind + "_colon"] |= bit
    pieces = [""]
    for a, _ in atoms:
        if isinstance(a, str):
            pieces[-1] += a
        else:
            pieces.append("")
    literal = None if masks["any"] or masks["stars"] else pieces[0]
    segments = None
    if not masks["any"] and masks["stars"] == masks["stars_colon"]:
        segments = tuple(seg.lower() if ignore_case else seg for seg in pieces)
    return _Glob(len(atoms) + 1, ignore_case, literals, masks["any"], masks["any_colon"], masks["stars"],
                 masks["stars_colon"], literal, segments)


def _segments_match(segments: tuple[str, ...], value: str) -> bool:
    """Full match of `seg0*seg1*...*segN`: the first and last pinned, the middle ones found left to
    right (the leftmost place is always as good as any later one, since a star matches anything)."""
    first, last = segments[0], segments[-1]
    if len(value) < len(first) + len(last) or not value.startswith(first) or not value.endswith(last):
        return False
    pos, end = len(first), len(value) - len(last)
    for seg in segments[1:-1]:
        found = value.find(seg, pos, end)
        if found < 0:
            return False
        pos = found + len(seg)
    return True


def match_work(tokens: tuple[Token, ...], value: str, *, ignore_case: bool = False,
               arn: bool = False) -> tuple[bool, int]:
    """Whether `value` matches, and the work it took (atom visits; the bound tests hold it to)."""
    if arn and all(t == STAR for t in tokens) and tokens:
        return True, 1  # a bare "*" covers every ARN
    g = compile_glob(tokens, ignore_case, arn)
    if g.literal is not None:  # most patterns: one comparison in C
        return (value.lower() == g.literal.lower() if ignore_case else value == g.literal), len(value) + 1
    if g.segments is not None:  # str.find: at most (segment + 1) x (value + 1) per segment
        return _segments_match(g.segments, value.lower() if ignore_case else value), g.width * (len(value) + 1)
    states, work = g.run(value, g.start())
    return bool(states & g.accept), work


def glob_match(tokens: tuple[Token, ...], value: str, *, ignore_case: bool = False, arn: bool = False) -> bool:
    """IAM's `*`/`?` full match (DOTALL: wildcards match newlines), in time linear in `value`."""
    return match_work(tokens, value, ignore_case=ignore_case, arn=arn)[0]


def glob_text_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """`pattern` as plain text with `*` and `?` (no policy variables): action names, StringLike values."""
    return glob_match(_text_tokens(pattern), value, ignore_case=ignore_case)


@lru_cache(maxsize=16384)
def _text_tokens(pattern: str) -> tuple[Token, ...]:
    return parse_pattern(pattern, wildcards=True, variables=False).tokens


def can_match_with_prefix(tokens: tuple[Token, ...], prefix: str, *, arn: bool = True) -> bool:
    """Whether some string starting with `prefix` matches the pattern: a state left after reading
    `prefix` can always be completed (every atom matches some character)."""
    if arn and tokens and all(t == STAR for t in tokens):
        return True
    g = compile_glob(tokens, False, arn)
    return bool(g.run(prefix, g.start())[0])


def show(tokens: tuple[Token, ...]) -> str:
    return "".join(t.raw if isinstance(t, Var) else t.char if isinstance(t, Wild) else t for t in tokens)
