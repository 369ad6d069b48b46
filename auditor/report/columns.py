"""The one place the columns of every tabular output are defined: findings.csv, regions.csv,
exclusions.csv and the workbook's sheets.

Column names are snake_case and the same in a CSV file and its sheet, so a filter written for one
works on the other. Names in the CSV files are public (DESIGN.md contracts): other tools read them.
"""

from __future__ import annotations

from auditor.model import Severity

FINDING_COLUMNS = [
    "account_id", "account_name", "ou_path", "check", "severity", "status", "region",
    "title", "detail", "remediation", "evidence", "change",
]
REGION_COLUMNS = [
    "account_id", "account_name", "ou_path", "region", "verdict", "denied_actions",
    "deciding_policies", "unknown_keys", "reason",
]
SEVERITY_ORDER = [s.value for s in sorted(Severity, key=lambda s: -s.rank)]


ACCOUNT_COLUMNS = [
    "account_id",
    "account_name",
    "ou_path",
    "overall",
    "audit_status",
    "audit_note",
    "failing_findings",
    "failing_checks",
    "role",
    "trust_principals",
    "external_id",
    "regions_denied_count",
    "regions_denied",
    "regions_partial",
    "account_state",
    "error",
]
# exclusions.csv, then the Exclusions sheet (which adds ou_path and not_enabled; it said `exclude_count`: README,
# Migration notes)
EXCLUSION_CSV_COLUMNS = ("account_id", "account_name", "excluded_count", "exclude", "include_only")
EXCLUSION_COLUMNS = ["account_id", "account_name", "ou_path", "excluded_count", "exclude", "include_only",
                     "not_enabled"]
POLICY_COLUMNS = [
    "policy_id",
    "name",
    "type",
    "aws_managed",
    "restricts_regions",
    "region_conditions",
    "attached_count",
    "attached_to",
    "description",
]
ERROR_COLUMNS = ["account_id", "account_name", "ou_path", "kind", "stage", "code", "message"]
REGION_LEAD_COLUMNS = ["account_id", "account_name", "ou_path", "denied_count"]
