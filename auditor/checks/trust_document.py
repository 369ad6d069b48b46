"""Adapter kept for one step while the checks move to the policy model (`auditor/policy/`)."""

from __future__ import annotations

from typing import Any

from auditor.policy.document import role_statements
from auditor.policy.glob import glob_text_match
from auditor.policy.model import Condition, PolicyError, Principal, Statement, action_pattern_matches, parse_principal

PolicyDocumentError = PolicyError
wildcard_match = action_pattern_matches

__all__ = ["Condition", "PolicyDocumentError", "Principal", "Statement", "parse_policy", "parse_principal",
           "wildcard_match", "wildcard_match_case"]


def wildcard_match_case(pattern: str, value: str) -> bool:
    return glob_text_match(pattern, value)


def parse_policy(document: str | dict[str, Any], *, trust: bool) -> tuple[Statement, ...]:
    return role_statements(document, trust=trust)
