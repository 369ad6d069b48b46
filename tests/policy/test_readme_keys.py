"""README.md's "Policy semantics" table says what request_keys.py says, row for row."""

from __future__ import annotations

from pathlib import Path

from auditor.policy import request_keys as keys
from auditor.policy.request_keys import KeyFact

README = Path(__file__).resolve().parents[2] / "README.md"
BEGIN, END = "<!-- request keys: begin -->", "<!-- request keys: end -->"


def cell(fact: KeyFact | None) -> str:
    if fact is None:
        return "unknown (not in the table)"
    if fact.presence is keys.PRESENT:
        return "present" + (f": `{fact.value}`" if fact.value != keys.PER_REQUEST else "")
    if fact.presence is keys.PRESENT_UNKNOWN_VALUE:
        return "present, value unseen"
    if fact.presence is keys.ABSENT:
        return "absent"
    return "unknown" + (f" (absent or `{'`, `'.join(fact.maybe)}`)" if fact.maybe else "")


def rows() -> list[str]:
    """One row per key: its class in each request and why (the sts:AssumeRole reason when it differs)."""
    tables = (keys.PROBE, keys.USER_PROBE, keys.ASSUME)
    names = dict.fromkeys(f.key for t in tables for f in t.facts)
    out = ["| key | each probe action (role session; SCPs) | each probe action (access keys: IAM user; SCPs) "
           "| Datadog's sts:AssumeRole (RCPs) | why (AWS documentation) |", "|---|---|---|---|---|"]
    for key in sorted(names, key=lambda k: (not k.startswith("aws:"), k.lower())):
        probe, user, assume = (_exact(t, key) for t in tables)
        whys = [f.why for f in (probe, assume) if f is not None]
        why = whys[0] if len(set(whys)) == 1 else f"probe: {whys[0]}; sts:AssumeRole: {whys[1]}"
        if user is not None and (probe is None or user.why != probe.why):
            why += f"; access keys: {user.why}"
        shown = f"`{key}*`" if key.endswith("/") else f"`{key}`"
        out.append(f"| {shown} | {cell(probe)} | {cell(user)} | {cell(assume)} | {why} |")
    return out


def _exact(table: keys.KeyTable, key: str) -> KeyFact | None:
    fact = table.fact(key)
    return fact if fact is not None and fact.key == key else None


def test_readme_lists_the_classification_of_every_key() -> None:
    text = README.read_text()
    assert BEGIN in text and END in text, "README.md lost its request keys table"
    table = text.split(BEGIN, 1)[1].split(END, 1)[0].strip().splitlines()
    assert table == rows(), "README.md's request keys table differs from request_keys.py: regenerate it " \
                            "with tests/policy/test_readme_keys.py's rows()"
