"""The `analysis_error` finding: a failure nobody foresaw while analysing one account."""

from __future__ import annotations

from auditor.checks.catalogue import CheckId, finding
from auditor.model import Account, Finding, Status


def analysis_error(account: Account, what: str, error_type: str, message: str) -> Finding:
    """`what` failed on the account's documents with an error of `error_type`: its finding, never the
    end of the run."""
    return finding(CheckId.ANALYSIS_ERROR, account, Status.ERROR,
                   f"{what} failed on this account's documents ({error_type}: {message[:300]}); "
                   "every other account was audited.", evidence=error_type)


def not_analysed(account: Account, reason: str) -> Finding:
    """The account's checks were not made: the analysis stopped (`reason`) before it."""
    return finding(CheckId.ANALYSIS_ERROR, account, Status.ERROR, f"Not analysed: {reason}.")
