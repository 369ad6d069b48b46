"""The audit's colours: one fill per severity, verdict, change and account status, in every sheet."""

from __future__ import annotations

from auditor.model import Verdict
from auditor.report.history import NEW, RESOLVED

SEVERITY_COLOURS = {
    "critical": "C00000",
    "high": "FF7C80",
    "medium": "FFC000",
    "low": "FFE699",
    "info": "9DC3E6",
}
VERDICT_COLOURS = {
    Verdict.ALLOWED.value: "C6EFCE",
    Verdict.DENIED.value: "FF9999",
    Verdict.PARTIAL.value: "F8CBAD",
    Verdict.INDETERMINATE.value: "FFEB9C",
    Verdict.NOT_APPLICABLE.value: "D9D9D9",
}
CHANGE_COLOURS = {NEW: "F8CBAD", RESOLVED: "C6EFCE"}
STATUS_COLOURS = {"audited": "C6EFCE", "error": "FF9999", "skipped": "D9D9D9", "not audited": "FFEB9C"}
