"""Pure analysis: collected data in, findings + region matrix + exclusions out.

No AWS, no clock: the same inputs (e.g. a saved inventory.json) give the same result. The caller
may hand in `should_stop` (the run deadline) and stop requests may land at any point: both are
honoured between accounts, and what was analysed by then is kept (`Analysis.incomplete_reason`).
One account's document that breaks a parser in a way nobody foresaw is that account's
`analysis_error`, never the end of the run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from auditor.checks.analysis_error import analysis_error, not_analysed
from auditor.checks.datadog_side import datadog_api_error_finding, datadog_findings
from auditor.checks.regions import region_findings
from auditor.checks.role import role_findings
from auditor.config import Config
from auditor.model import (
    Account,
    AccountSnapshot,
    Exclusion,
    ExpectedValues,
    Finding,
    Inventory,
    RegionVerdict,
    RequiredPermissions,
    Verdict,
)
from auditor.policy.matrix import RegionAnalysis, StopCheck, evaluate_regions
from auditor.stop import STOP_REQUESTS, stop_signal_name

log = logging.getLogger("auditor")


@dataclass(frozen=True)
class Analysis:
    findings: tuple[Finding, ...]
    verdicts: tuple[RegionVerdict, ...]
    exclusions: tuple[Exclusion, ...]
    incomplete_reason: str = ""  # "" when every account was analysed


class _Stop:
    """The first reason to stop the analysis, asked between accounts: a stop request caught on the
    way (`interrupted`), or the caller's `should_stop` (the run deadline)."""

    def __init__(self, should_stop: Callable[[], str]) -> None:
        self._should_stop = should_stop
        self.reason = ""

    def __call__(self) -> str:
        if not self.reason and (why := self._should_stop()):
            self.reason = f"{why} during the analysis"
            log.error("%s: the accounts analysed are kept, the others are reported not analysed", self.reason)
        return self.reason

    def interrupted(self, exc: BaseException) -> str:
        if not self.reason:
            self.reason = f"interrupted by {stop_signal_name(exc)} during the analysis"
            log.error("%s: the accounts analysed are kept, the others are reported not analysed", self.reason)
        return self.reason


def _never() -> str:
    return ""


def analyze(
    inventory: Inventory,
    snapshots: Mapping[str, AccountSnapshot],
    *,
    cfg: Config,
    regions: Sequence[str],
    expected: Mapping[str, ExpectedValues],
    aws_managed_documents: Mapping[str, str],
    datadog_error: str = "",
    datadog_inventory_complete: bool = False,
    policies_unread: str = "",
    should_stop: Callable[[], str] = _never,
    required_permissions: RequiredPermissions | None = None,
) -> Analysis:
    """`datadog_error`: why the Datadog source could not be read (""): the run's datadog_api_error finding.
    `policies_unread`: why the SCPs and RCPs are not known (""): then no region is judged.
    `should_stop`: asked between accounts; a reason ("the run deadline ... was reached") stops it.
    `required_permissions`: what the role checks hold each role to (None: the probe actions); the
    region matrix always uses the probe actions."""
    stop = _Stop(should_stop)
    findings: list[Finding] = [datadog_api_error_finding(datadog_error)] if datadog_error else []
    for account_id, snap in snapshots.items():
        account = inventory.account(account_id)
        assert account is not None, f"snapshot for unknown account {account_id}"
        findings.extend(_role_checks(account, snap, inventory, cfg, expected, aws_managed_documents, stop,
                                     required_permissions))
    if policies_unread or stop():
        matrix = _unjudged(inventory, regions, policies_unread or stop.reason)
    else:
        try:
            # The evaluator also applies "a policy type not enabled at the root has no effect".
            matrix = evaluate_regions(
                inventory,
                snapshots,
                regions=regions,
                probe_actions=cfg.regions.probe_actions,
                site=cfg.datadog.site,
                role_name=cfg.datadog.role_name,
                exclude_partial=cfg.regions.exclude_partial,
                should_stop=StopCheck(stop, stop.interrupted),
                access_key_accounts=[a for a, e in expected.items() if e.uses_access_keys],
            )
        except STOP_REQUESTS as exc:  # before the first account (the policies being parsed)
            matrix = _unjudged(inventory, regions, stop.interrupted(exc))
    exclusions = {e.account_id: e for e in matrix.exclusions}
    by_account: dict[str, list[RegionVerdict]] = {}
    for v in matrix.verdicts:
        by_account.setdefault(v.account_id, []).append(v)
    # Where Datadog's region setting is known, a denied region is judged against it: one finding
    # per problem (checks/datadog_regions.py). With a CSV it is not known and the matrix's stand.
    findings.extend(region_findings(matrix, inventory, expected, exclusions, by_account, regions))
    # Only the Datadog API lists every account Datadog monitors: with a CSV, an account the
    # file leaves out is not evidence that Datadog does not monitor it. Not when stopped: the
    # comparison needs the exclusions of every account.
    if datadog_inventory_complete and not stop.reason:
        try:
            findings.extend(
                datadog_findings(
                    inventory,
                    tuple(snapshots),
                    expected,
                    exclusions,
                    tuple(regions),
                    partition=inventory.partition,
                    report_unmonitored=cfg.datadog.report_unmonitored_accounts,
                    verdicts=by_account,
                )
            )
        except STOP_REQUESTS as exc:
            stop.interrupted(exc)
    return Analysis(tuple(findings), tuple(matrix.verdicts), tuple(matrix.exclusions), stop.reason)


def _role_checks(account: Account, snap: AccountSnapshot, inventory: Inventory, cfg: Config,
                 expected: Mapping[str, ExpectedValues], aws_managed_documents: Mapping[str, str],
                 stop: _Stop, required_permissions: RequiredPermissions | None) -> list[Finding]:
    """One account's role checks; or, once stopped, one finding saying why they were not made."""
    if stop():
        return [not_analysed(account, stop.reason)]
    try:
        return role_findings(
            account,
            snap,
            site=cfg.datadog.site,
            partition=inventory.partition,
            role_name=cfg.datadog.role_name,
            expected=expected.get(account.id),
            probe_actions=cfg.regions.probe_actions,
            aws_managed_documents=aws_managed_documents,
            show_external_ids=cfg.datadog.show_external_ids,
            required_permissions=required_permissions,
        )
    except STOP_REQUESTS as exc:
        return [not_analysed(account, stop.interrupted(exc))]
    except Exception as exc:  # one account's documents must never end the run
        log.error("account %s: the role checks failed: %s", account.id, type(exc).__name__)
        return [analysis_error(account, "The role checks", type(exc).__name__, str(exc))]


def _unjudged(inventory: Inventory, regions: Sequence[str], why: str) -> RegionAnalysis:
    """The region matrix when the organization's policies are not known: every cell says so, and
    there is no exclusion list (an empty one would read as "exclude nothing")."""
    reason = f"not judged: {why}"
    verdicts = tuple(RegionVerdict(a.id, r, Verdict.NOT_APPLICABLE, reason=reason)
                     for a in inventory.accounts for r in regions)
    return RegionAnalysis(verdicts, ())
