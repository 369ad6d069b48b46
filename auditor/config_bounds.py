"""Bounds of every config value: the one table of number ranges and list sizes, and the text rules.

A value that slipped through used to end in a traceback or a silent change of meaning (`nan` for
[run] run_timeout_seconds switched the deadline off; `inf` overflowed a thread wait; a huge
backup_count made log rotation loop for ever; a NUL in a path raised ValueError). Every number must
be finite and within its range, every list at most its size, every string without control characters
and at most MAX_TEXT long; names sent to AWS follow AWS's own rules (IAM role names and paths, STS
external ids). A test holds that every number and list key of config.py has an entry here.
"""

from __future__ import annotations

import math
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from auditor.terminal import UNSAFE

HOUR, DAY = 3600.0, 86400.0
MAX_TEXT = 4096  # any string key: a path (PATH_MAX), a URL, an OU path
MAX_URL = 2048

# IAM: role names 1-64 of [A-Za-z0-9_+=,.@-]; paths "/" or "/.../" of ASCII 0x21-0x7E, 1-512 long
# (IAM API reference, CreateRole). STS: ExternalId 2-1224 of [\w+=,.@:/-] (AssumeRole).
IAM_ROLE_NAME = re.compile(r"[A-Za-z0-9_+=,.@-]{1,64}")
IAM_PATH = re.compile(r"/|/[\x21-\x7e]{1,510}/")
EXTERNAL_ID = re.compile(r"[A-Za-z0-9_+=,.@:/-]{2,1224}")


@dataclass(frozen=True)
class Range:
    low: float
    high: float
    low_exclusive: bool = False  # "> low" rather than ">= low"

    def holds(self, value: float) -> bool:
        above = value > self.low if self.low_exclusive else value >= self.low
        return math.isfinite(value) and above and value <= self.high

    def describe(self, whole: bool) -> str:
        if whole:
            return f"between {self.low:g} and {self.high:g}"
        low = f"> {self.low:g}" if self.low_exclusive else f">= {self.low:g}"
        return f"a finite number {low} and at most {self.high:g}"


NUMBER_RANGES: dict[tuple[str, str], Range] = {
    ("datadog", "sync_max_run_age_hours"): Range(0, 24 * 366, low_exclusive=True),
    ("run", "workers"): Range(1, 512),
    ("run", "max_attempts"): Range(1, 50),
    ("run", "connect_timeout_seconds"): Range(0, HOUR, low_exclusive=True),
    ("run", "read_timeout_seconds"): Range(0, HOUR, low_exclusive=True),
    ("run", "account_timeout_seconds"): Range(0, DAY, low_exclusive=True),
    ("run", "run_timeout_seconds"): Range(0, 7 * DAY, low_exclusive=True),
    ("output", "keep_runs"): Range(1, 10_000),
    ("output", "lock_timeout_seconds"): Range(0, 7 * DAY),
    ("logging", "max_bytes"): Range(1024, 2**40),
    ("logging", "backup_count"): Range(0, 1000),  # rotation renames each backup once per rollover
}

# Organizations allow at most a few thousand accounts per organization by quota, far under 10,000.
LIST_LIMITS: dict[tuple[str, str], int] = {
    ("organization", "include_ous"): 1000,
    ("organization", "exclude_ous"): 1000,
    ("organization", "include_accounts"): 10_000,
    ("organization", "exclude_accounts"): 10_000,
    ("datadog", "result_tags"): 50,
    ("regions", "audited"): 100,  # every region of a partition is ~40
    ("regions", "probe_actions"): 50,  # each is evaluated per account and region
}
# Tighter length limits than MAX_TEXT for list items and keys with a short natural form.
TEXT_LIMITS: dict[tuple[str, str], int] = {
    ("organization", "include_ous"): 1024,  # OU names are at most 128 characters, 5 levels deep
    ("organization", "exclude_ous"): 1024,
    ("regions", "audited"): 32,
    ("regions", "probe_actions"): 128,
    ("run", "home_region"): 32,
    ("datadog", "api_url"): MAX_URL,
}
_NOT_EMPTY = {("logging", "file"), ("output", "directory"), ("logging", "level")}

Bad = Callable[[str, Any, str], Exception]


def check_bounds(sections: dict[str, Any], bad: Bad) -> None:
    """Every value of every section (section name -> dataclass instance) within its bounds."""
    for name, section in sections.items():
        hints = typing.get_type_hints(type(section))
        for f in fields(section):
            where, value = f"[{name}] {f.name}", getattr(section, f.name)
            if hints[f.name] in (int, float):
                rng = NUMBER_RANGES[name, f.name]
                if not rng.holds(value):
                    raise bad(where, value, rng.describe(hints[f.name] is int))
            elif isinstance(value, tuple):
                limit = LIST_LIMITS[name, f.name]
                if len(value) > limit:
                    raise bad(where, f"<{len(value)} items>", f"at most {limit} items")
                for item in value:
                    _check_text(where, item, TEXT_LIMITS.get((name, f.name), MAX_TEXT), bad)
            elif isinstance(value, str) and (name, f.name) != ("organization", "audit_role_external_id"):
                _check_text(where, value, TEXT_LIMITS.get((name, f.name), MAX_TEXT), bad)
                if not value and (name, f.name) in _NOT_EMPTY:
                    raise bad(where, value, "must not be empty")


def _check_text(where: str, value: str, limit: int, bad: Bad) -> None:
    if len(value) > limit:
        raise bad(where, value[:40] + "…", f"at most {limit} characters (found {len(value)})")
    if UNSAFE.search(value):
        raise bad(where, value, "control, zero-width and bidi characters are not allowed")


def check_aws_names(role_name: str, audit_role_name: str, audit_role_path: str, external_id: str,
                    bad: Bad, secret: Callable[[str, str], Exception]) -> None:
    if not IAM_ROLE_NAME.fullmatch(role_name):
        raise bad("[datadog] role_name", role_name, "an IAM role name: 1-64 characters of A-Z a-z 0-9 _ + = , . @ -")
    if not IAM_ROLE_NAME.fullmatch(audit_role_name):
        raise bad("[organization] audit_role_name", audit_role_name,
                  "an IAM role name: 1-64 characters of A-Z a-z 0-9 _ + = , . @ -")
    if not IAM_PATH.fullmatch(audit_role_path):
        raise bad("[organization] audit_role_path", audit_role_path,
                  "an IAM path like '/' or '/audit/': at most 512 printable ASCII characters without spaces")
    if external_id and not EXTERNAL_ID.fullmatch(external_id):
        # a secret: described, never shown
        raise secret("[organization] audit_role_external_id",
                     f"an STS external id: 2-1224 characters of A-Z a-z 0-9 _ + = , . @ : / - "
                     f"(found {len(external_id)} characters)")
