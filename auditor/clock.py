"""The wall clock, and the two ways the auditor writes a UTC time: one place for both.

Every time the auditor writes (run.json's started_at/finished_at, a sync or send record's `at`,
the lock file's holder line) is ISO 8601 UTC to the second with a `Z`; a run folder's name is the
compact, sortable stamp. A naive datetime is taken as UTC, never as the host's local time (cron
hosts run in any zone). policy/ and checks/ never read the clock (a test holds them to it):
a time they need is passed in.
"""

from __future__ import annotations

from datetime import UTC, datetime

STAMP_FORMAT = "%Y%m%dT%H%M%SZ"  # a run folder's or a sync record's name: sortable as text
ISO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def now() -> datetime:
    """The current time, UTC-aware."""
    return datetime.now(UTC)


def as_utc(when: datetime) -> datetime:
    """`when` in UTC; a naive datetime is taken to be UTC already."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def iso(when: datetime) -> str:
    """2026-12-06T00:07:43Z"""
    return as_utc(when).strftime(ISO_FORMAT)


def now_iso() -> str:
    return iso(now())


def stamp(when: datetime) -> str:
    """20261206T000743Z: a run folder's name."""
    return as_utc(when).strftime(STAMP_FORMAT)


def parse_iso(text: str) -> datetime:
    """An ISO 8601 time (a trailing `Z` too), UTC-aware; naive text is taken as UTC. ValueError otherwise."""
    return as_utc(datetime.fromisoformat(text))
