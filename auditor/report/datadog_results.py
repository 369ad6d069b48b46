"""A run's results as Datadog series and one event: plain data from an AuditResult, no I/O, no clock.

Series (gauges; names in facts/result_names.py), every one tagged `aws_org_id:<organization>` and
with [datadog] result_tags:
- findings.failing and findings.new: one series per check of the catalogue and its severity (tags
  `check`, `severity`), zeros included so a graph falls back to 0 when a problem is fixed; a failing
  finding whose severity differs from its check's adds that (check, severity) series. No account
  tag: the number of series does not grow with the organization.
- accounts: one series per state (audited, error, skipped), together every account of the organization
  (an account an incomplete run did not reach counts as error: it was not audited).
- regions.excluded (regions to exclude in Datadog, all accounts together) and run.complete (1 or 0).

"Failing" and "new"/"resolved" are the history's (report/history.py): status fail or error, and the
`change` column. A run with no earlier run to compare with counts every failing finding as new.

The event's text is plain text (not Datadog markdown) with account names cleaned: AWS text must not
become a link, an @-notification or a control sequence in someone's Datadog.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

from auditor.checks.catalogue import CATALOGUE
from auditor.datadog.intake import Gauge, ResultEvent, ResultPayload
from auditor.facts.result_names import (
    ACCOUNT_STATES,
    ACCOUNTS,
    CHECK_TAG,
    FINDINGS_FAILING,
    FINDINGS_NEW,
    ORG_TAG,
    PREFIX,
    REGIONS_EXCLUDED,
    RUN_COMPLETE,
    SEVERITY_TAG,
    STATE_TAG,
)
from auditor.model import AuditResult, Finding, Severity
from auditor.report.history import NEW, RESOLVED, current_findings, is_failing
from auditor.terminal import UNSAFE

MAX_TITLE = 100  # Datadog's limits on an event
MAX_TEXT = 4000
MAX_LISTED = 40  # finding lines in the event, new and resolved together; the rest is "and N more"
MAX_NAME = 64
OTHER_CHECK = "other"  # a check id not in the catalogue (a run folder from another version)

_TAG_VALUE = re.compile(r"[^a-z0-9_.\-/]")


def check_pairs(findings: Iterable[Finding] = ()) -> list[tuple[str, Severity]]:
    """The (check, severity) pairs that get a series: every catalogue check with its severity, plus
    the pairs of `findings` (failing ones) whose severity differs. Sorted, so payloads compare."""
    pairs: set[tuple[str, Severity]] = {(spec.id, spec.severity) for spec in CATALOGUE.values()}
    pairs |= {(_check_id(f.check), f.severity) for f in findings if is_failing(f)}
    return sorted(pairs, key=lambda p: (p[0], -p[1].rank))


def series_per_run() -> int:
    """Series a run sends when every failing finding has its check's severity (the README's figure)."""
    return 2 * len(check_pairs()) + len(ACCOUNT_STATES) + 2


def new_findings(result: AuditResult) -> list[Finding]:
    """Failing findings new since the previous run; all failing ones when there was none to compare with."""
    current = [f for f in current_findings(result.findings) if is_failing(f)]
    if not result.run.compared_with:
        return current
    return [f for f in current if f.change == NEW]


def resolved_findings(result: AuditResult) -> list[Finding]:
    return [f for f in result.findings if f.change == RESOLVED]


def build_results(
    result: AuditResult, *, fail_on_severity: str, result_tags: Sequence[str], run_dir: str
) -> ResultPayload:
    org = result.inventory.organization_id
    common = (f"{ORG_TAG}:{_tag_value(org)}", *result_tags)
    failing = [f for f in current_findings(result.findings) if is_failing(f)]
    new = new_findings(result)
    series = [
        *_by_check(FINDINGS_FAILING, failing, common),
        *_by_check(FINDINGS_NEW, new, common),
        *(Gauge(ACCOUNTS, n, (f"{STATE_TAG}:{state}", *common)) for state, n in account_states(result).items()),
        Gauge(REGIONS_EXCLUDED, sum(len(e.exclude) for e in result.exclusions), common),
        Gauge(RUN_COMPLETE, 1 if result.run.complete else 0, common),
    ]
    return ResultPayload(tuple(series), _event(result, failing, new, Severity(fail_on_severity), common, run_dir))


def account_states(result: AuditResult) -> dict[str, int]:
    """Accounts of the organization by state; they add up to every account."""
    org = {a.id for a in result.inventory.accounts}
    audited = {s.account_id for s in result.snapshots if s.error is None} & org
    skipped = {account_id for account_id, _ in result.skipped} & org - audited
    return dict(zip(ACCOUNT_STATES, (len(audited), len(org - audited - skipped), len(skipped)), strict=True))


def _by_check(metric: str, findings: Sequence[Finding], common: tuple[str, ...]) -> list[Gauge]:
    counts = Counter((_check_id(f.check), f.severity) for f in findings)
    return [
        Gauge(metric, counts[(check, severity)], (f"{CHECK_TAG}:{check}", f"{SEVERITY_TAG}:{severity.value}", *common))
        for check, severity in check_pairs(findings)
    ]


def _check_id(check: str) -> str:
    return check if check in CATALOGUE else OTHER_CHECK


def _tag_value(value: str) -> str:
    return _TAG_VALUE.sub("_", value.lower())[:150] or "unknown"


# --- the event ---------------------------------------------------------------------------------


def alert_type(result: AuditResult, new: Sequence[Finding], threshold: Severity) -> str:
    """error: a new failing finding at or above [run] fail_on_severity; warning: other new ones, or a
    run that did not complete (nothing new is not all clear then); success otherwise."""
    if any(f.severity.rank >= threshold.rank for f in new):
        return "error"
    return "warning" if new or not result.run.complete else "success"


def _event(
    result: AuditResult,
    failing: Sequence[Finding],
    new: Sequence[Finding],
    threshold: Severity,
    common: tuple[str, ...],
    run_dir: str,
) -> ResultEvent:
    org = clean(result.inventory.organization_id)
    resolved = resolved_findings(result)
    state = "" if result.run.complete else " (incomplete run)"
    title = f"Datadog org auditor {org}: {len(new)} new, {len(resolved)} resolved, {len(failing)} failing{state}"
    return ResultEvent(
        title=title[:MAX_TITLE],
        text=_text(result, failing, new, resolved, run_dir),
        alert_type=alert_type(result, new, threshold),
        tags=common,
        aggregation_key=f"{PREFIX}:{org}"[:100],
    )


def _text(
    result: AuditResult, failing: Sequence[Finding], new: Sequence[Finding], resolved: Sequence[Finding], run_dir: str
) -> str:
    states = account_states(result)
    compared = (
        f"compared with run {clean(result.run.compared_with)}"
        if result.run.compared_with
        else "no earlier complete run to compare with: every failing finding counts as new"
    )
    head = [
        f"Run finished {clean(result.run.finished_at)}: "
        + ("complete." if result.run.complete else f"incomplete ({clean(result.run.incomplete_reason)})."),
        f"Failing findings: {len(failing)}; {len(new)} new, {len(resolved)} resolved ({compared}).",
        f"Accounts: {states['audited']} audited, {states['error']} error, {states['skipped']} skipped. "
        f"Regions to exclude in Datadog: {sum(len(e.exclude) for e in result.exclusions)}.",
    ]
    foot = [f"Run folder: {clean(run_dir, limit=1000)}"]
    budget = MAX_TEXT - sum(len(line) + 1 for line in head + foot) - 2 * 40  # room for "and N more" lines
    body: list[str] = []
    left = MAX_LISTED
    for label, findings in (("New failing findings", new), ("Resolved", resolved)):
        if not findings:
            continue
        lines = [_line(f) for f in sorted(findings, key=_order)]
        shown = _fit(lines, left, budget - len(label) - 2)
        body += ["", f"{label}:", *lines[:shown]]
        if shown < len(lines):
            body.append(f"and {len(lines) - shown} more")
        left -= shown
        budget -= sum(len(line) + 1 for line in lines[:shown]) + len(label) + 2
    return "\n".join([*head, *body, "", *foot])[:MAX_TEXT]


def _fit(lines: Sequence[str], max_lines: int, budget: int) -> int:
    used = 0
    for n, line in enumerate(lines[:max(max_lines, 0)]):
        used += len(line) + 1
        if used > budget:
            return n
    return min(len(lines), max(max_lines, 0))


def _order(f: Finding) -> tuple[int, str, str, str]:
    return (-f.severity.rank, f.check, f.account_id, f.region)


def _line(f: Finding) -> str:
    name = f" ({clean(f.account_name, limit=MAX_NAME)})" if f.account_name else ""
    region = f" in {clean(f.region, limit=32)}" if f.region else ""
    return f"- [{f.severity.value}] {clean(f.check, limit=64)}: {clean(f.account_id, limit=32)}{name}{region}"


def clean(text: str, *, limit: int = 200) -> str:
    """Untrusted text for the event: no control or bidi characters, no @-notification, bounded."""
    text = UNSAFE.sub(" ", text).replace("@", "\uff20")  # fullwidth at: reads the same, notifies nobody
    return text if len(text) <= limit else text[: limit - 1] + "…"
