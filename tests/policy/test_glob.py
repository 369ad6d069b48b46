"""IAM wildcard matching (`*`, `?`) without backtracking: every pattern is decided in work bounded
by (pattern length + 1) x (value length + 1), whatever the policy text (issue 13, item 2)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.policy.glob import can_match_with_prefix, glob_match, match_work, parse_pattern


def tokens(raw: str, *, variables: bool = False) -> tuple:  # type: ignore[type-arg]
    return parse_pattern(raw, wildcards=True, variables=variables).tokens


def bound(pattern: str, value: str) -> int:
    return (len(pattern) + 1) * (len(value) + 1)


def old_regex(raw: str, value: str, *, ignore_case: bool = False, arn: bool = False) -> bool:
    """The semantics the matcher replaces: the pattern as a backtracking regex, DOTALL, full match
    (with `arn`, wildcards do not cross ':' before the resource part)."""
    parts, colons = [], 0
    for ch in raw:
        if ch in "*?":
            if arn and colons < 5:
                parts.append("[^:]*" if ch == "*" else "[^:]")
            else:
                parts.append(".*" if ch == "*" else ".")
        else:
            parts.append(re.escape(ch))
            colons += ch == ":"
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.fullmatch("".join(parts), value, flags) is not None


def test_question_star_groups_ending_in_a_literal_are_decided_in_bounded_work() -> None:
    # With the backtracking regex, 8 groups against 40 characters took a second; 40 groups against
    # a 256-character tag value never finished.
    pattern = "?*" * 40 + "x"
    for value in ("a" * 256, "a" * 255 + "x", "a" * 5000):
        matched, work = match_work(tokens(pattern), value)
        assert matched == value.endswith("x")
        assert work <= bound(pattern, value)


def test_arn_and_ignore_case_patterns_are_decided_in_bounded_work() -> None:
    pattern = "arn:aws:iam::" + "*?" * 30 + ":role/" + "?*" * 30 + "X"
    value = "arn:aws:iam::" + "1" * 12 + ":role/" + "a" * 3000
    matched, work = match_work(tokens(pattern), value, arn=True, ignore_case=True)
    assert not matched
    assert work <= bound(pattern, value)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab?*:x", min_size=1, max_size=120), st.text(alphabet="abx:", max_size=300),
       st.booleans(), st.booleans())
def test_random_long_patterns_evaluate_within_a_bound_of_work(pattern: str, value: str, ignore_case: bool,
                                                             arn: bool) -> None:
    _, work = match_work(tokens(pattern), value, ignore_case=ignore_case, arn=arn)
    assert work <= bound(pattern, value)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="aAbé É?*:\n", max_size=10), st.text(alphabet="aAbé É:\n", max_size=12),
       st.booleans(), st.booleans())
def test_the_matcher_agrees_with_the_regex_semantics(pattern: str, value: str, ignore_case: bool, arn: bool) -> None:
    expected = old_regex(pattern, value, ignore_case=ignore_case, arn=arn)
    if arn and pattern and set(pattern) == {"*"}:
        expected = True  # a bare "*" covers every ARN
    assert glob_match(tokens(pattern), value, ignore_case=ignore_case, arn=arn) == expected


def test_escaped_wildcards_stay_literal() -> None:
    star = tokens("a${*}b${?}c", variables=True)
    assert glob_match(star, "a*b?c")
    assert not glob_match(star, "axbyc")
    assert not glob_match(star, "a*bxc")


def test_empty_pattern_matches_only_the_empty_value() -> None:
    assert glob_match((), "")
    assert not glob_match((), "a")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab?*:", max_size=10), st.text(alphabet="ab:", max_size=8))
def test_prefix_question_agrees_with_trying_every_short_completion(pattern: str, prefix: str) -> None:
    completions = ("", "a", "b", ":", "aa", "ab", "a:", ":a", "::", ":::", "a:b:", "b" * 6, ":" * 6)
    brute = any(old_regex(pattern, prefix + c, arn=True) for c in completions)
    if pattern and set(pattern) == {"*"}:
        brute = True
    got = can_match_with_prefix(tokens(pattern), prefix)
    # Trying a few completions may miss one; it can never find one the matcher denies.
    assert got or not brute
