"""Language inclusion of action patterns: is every action an entry such as `dynamodb:List*` names
allowed by the policies' patterns? Decided exactly (checked against brute force), in bounded work."""

from __future__ import annotations

import itertools
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.policy.action_cover import ActionSet, Undecided, overlap_example, star_covers, uncovered_example
from auditor.policy.glob import glob_text_match


def allow(*patterns: str, negated: bool = False) -> tuple[tuple[ActionSet, ...], ...]:
    return ((ActionSet(patterns, negated),),)


@pytest.mark.parametrize("patterns", [("a:Get*",), ("a:*",), ("*",), ("A:GET*",), ("a:G*",), ("a:Get", "a:Get?*"),
                                      ("a:Get", "a:Get?", "a:Get??*")])
def test_a_wildcard_entry_is_covered_by_patterns_that_match_all_of_it(patterns):
    assert uncovered_example("a:Get*", allow(*patterns)) is None


@pytest.mark.parametrize("patterns, example", [
    (("a:GetA*",), "a:Get"),
    (("a:Get?*",), "a:Get"),  # everything but a:Get itself
    (("a:Get",), "a:Geta"),
    (("a:GetA*", "a:GetB*"), "a:Get"),
    (("a:Get*A",), "a:Get"),
    (("b:*",), "a:Get"),
])
def test_a_wildcard_entry_is_not_covered_by_patterns_that_miss_part_of_it(patterns, example):
    assert uncovered_example("a:Get*", allow(*patterns)) == example


def test_the_counterexample_is_spelled_as_the_entry_and_the_policy_spell_it():
    assert uncovered_example("dynamodb:List*", allow("dynamodb:ListTables")) == "dynamodb:List"
    deny = (ActionSet(("dynamodb:ListTables",)),)
    assert uncovered_example("dynamodb:List*", allow("dynamodb:*"), deny) == "dynamodb:ListTables"


def test_not_action_allows_everything_else_and_a_not_action_deny_denies_everything_else():
    assert uncovered_example("dynamodb:List*", allow("iam:*", negated=True)) is None
    assert uncovered_example("dynamodb:List*", allow("dynamodb:L*", negated=True)) == "dynamodb:List"
    deny_all_but = (ActionSet(("dynamodb:ListT*",), negated=True),)
    assert uncovered_example("dynamodb:List*", allow("*"), deny_all_but) == "dynamodb:List"


def test_every_required_group_must_allow_it_a_boundary_too():
    boundary = (ActionSet(("dynamodb:ListTables",)),)
    assert uncovered_example("dynamodb:List*", (*allow("*"), boundary)) == "dynamodb:List"
    assert uncovered_example("dynamodb:ListTables", (*allow("*"), boundary)) is None


def test_overlap_names_an_action_both_match():
    # the shortest: List and Tables share the t
    assert overlap_example("dynamodb:List*", "*Tables") == "dynamodb:Listables"
    assert overlap_example("dynamodb:List*", "dynamodb:Get*") is None


def test_star_covers_is_a_sound_quick_test():
    assert star_covers("dynamodb:*", "dynamodb:List*") and star_covers("*", "a:b")
    assert not star_covers("dynamodb:List?*", "dynamodb:List*") and not star_covers("dynamodb:ListT*", "dynamodb:L*")


def test_a_product_built_to_explode_is_undecided_in_bounded_time():
    # "b followed by n characters" needs 2^n states to decide; the pattern and its complement together
    # cover everything, so only the whole product could prove it.
    pattern = "a:*b" + "?" * 16
    started = time.monotonic()
    with pytest.raises(Undecided):
        uncovered_example("a:*", ((ActionSet((pattern,)), ActionSet((pattern,), negated=True)),))
    assert time.monotonic() - started < 2
    assert uncovered_example("a:*", ((ActionSet(("a:*b??",)), ActionSet(("a:*b??",), negated=True)),)) is None


# --- against brute force over a small alphabet ------------------------------------------------------

ALPHABET = "ab:x"  # x stands for every character no pattern names
PATTERN = st.text(alphabet="abAB:*?", min_size=1, max_size=5)
ACTION_SET = st.builds(lambda ps, neg: ActionSet(tuple(ps), neg), st.lists(PATTERN, min_size=1, max_size=3),
                       st.booleans())


def _holds(s: ActionSet, word: str) -> bool:
    return any(glob_text_match(p, word, ignore_case=True) for p in s.patterns) != s.negated


def _allowed(word: str, required, forbidden) -> bool:
    return all(any(_holds(s, word) for s in g) for g in required) and not any(_holds(s, word) for s in forbidden)


@settings(max_examples=250, deadline=None)
@given(PATTERN, st.lists(st.lists(ACTION_SET, min_size=1, max_size=3).map(tuple), max_size=2).map(tuple),
       st.lists(ACTION_SET, max_size=2).map(tuple))
def test_the_answer_agrees_with_brute_force_over_every_short_action(entry, required, forbidden):
    found = uncovered_example(entry, required, forbidden)
    brute = next((w for n in range(8) for w in map("".join, itertools.product(ALPHABET, repeat=n))
                  if glob_text_match(entry, w, ignore_case=True) and not _allowed(w, required, forbidden)), None)
    if found is not None:  # sound: a real counterexample, and a shortest one
        assert glob_text_match(entry, found, ignore_case=True) and not _allowed(found, required, forbidden)
        assert brute is None or len(found) <= len(brute)
    else:  # complete: brute force finds none either
        assert brute is None
