"""The names a run's results carry in Datadog: metric names and the tag keys the auditor sets.

One source of truth for the sender (report/datadog_results.py), the config check (a user tag must
not reuse one of our keys) and the monitor and dashboard in config/datadog/ (a test compares them).
Renaming one breaks users' monitors and dashboards: it is public interface, like a check id.
"""

from __future__ import annotations

PREFIX = "datadog_org_auditor"

FINDINGS_FAILING = f"{PREFIX}.findings.failing"  # tags check, severity: failing findings now
FINDINGS_NEW = f"{PREFIX}.findings.new"  # tags check, severity: failing findings new since the last run
ACCOUNTS = f"{PREFIX}.accounts"  # tag state: audited | error | skipped
REGIONS_EXCLUDED = f"{PREFIX}.regions.excluded"  # regions to exclude in Datadog, all accounts together
RUN_COMPLETE = f"{PREFIX}.run.complete"  # 1 when the run audited every account in scope, else 0

METRICS = (FINDINGS_FAILING, FINDINGS_NEW, ACCOUNTS, REGIONS_EXCLUDED, RUN_COMPLETE)

CHECK_TAG, SEVERITY_TAG, STATE_TAG, ORG_TAG = "check", "severity", "state", "aws_org_id"
# Tag keys the auditor sets on its series; a [datadog] result_tags entry may not reuse them.
OWN_TAG_KEYS = (CHECK_TAG, SEVERITY_TAG, STATE_TAG, ORG_TAG)
ACCOUNT_STATES = ("audited", "error", "skipped")
