"""Time audit.xlsx for a large organization: `python bench/bench_workbook.py [accounts] [regions]`.

Synthetic result shaped like a real run: a verdict per account x region (one in eight denied),
two findings per account (role present; regions denied or allowed) and a failing external id check
in one account of ten.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from auditor.model import (
    SCP,
    Account,
    AccountSnapshot,
    AuditResult,
    Exclusion,
    Finding,
    Inventory,
    OrgPolicy,
    OrgUnit,
    RegionVerdict,
    RoleInfo,
    RunInfo,
    Severity,
    Status,
    Verdict,
)
from auditor.report.workbook import write_workbook

VERDICTS = [Verdict.ALLOWED] * 5 + [Verdict.DENIED, Verdict.PARTIAL, Verdict.INDETERMINATE]


def synthetic(n_accounts: int, n_regions: int) -> AuditResult:
    regions = tuple(f"xx-region-{i}" for i in range(n_regions))
    accounts = tuple(
        Account(f"{i:012d}", f"account-{i}", "", "ACTIVE", "ou-1", f"Root/OU{i % 50}", ("r-1", "ou-1"))
        for i in range(n_accounts)
    )
    trust = (
        '{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::464622532012:root"},'
        '"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"abcdef0123456789"}}}]}'
    )
    snaps = tuple(
        AccountSnapshot(
            a.id, RoleInfo("DatadogIntegrationRole", "/", f"arn:aws:iam::{a.id}:role/D", trust, (), (), ())
        )
        for a in accounts
    )
    verdicts, findings = [], []
    for i, a in enumerate(accounts):
        findings.append(
            Finding(
                a.id,
                "role_present",
                Severity.INFO,
                Status.PASS,
                "Role present",
                "ok " * 30,
                "Nothing to do.",
                account_name=a.name,
                ou_path=a.ou_path,
            )
        )
        denied = []
        for j, r in enumerate(regions):
            v = VERDICTS[(i + j) % len(VERDICTS)]
            verdicts.append(RegionVerdict(a.id, r, v))
            denied += [r] if v is Verdict.DENIED else []
        # Like policy/matrix.py: one finding per account for all its denied regions.
        findings.append(
            Finding(
                a.id,
                "scp_region_denied" if denied else "org_policies_allow",
                Severity.MEDIUM if denied else Severity.INFO,
                Status.FAIL if denied else Status.PASS,
                "SCPs deny the Datadog role's calls",
                f"SCPs deny the role in {len(denied)} region(s): {', '.join(denied)}.",
                "Exclude the regions in Datadog (see Exclusions).",
                account_name=a.name,
                ou_path=a.ou_path,
                evidence='{"policy": "p-1"}',
            )
        )
        if i % 10 == 0:
            findings.append(
                Finding(
                    a.id,
                    "external_id_mismatch",
                    Severity.HIGH,
                    Status.FAIL,
                    "External id differs",
                    "The role's sts:ExternalId is ****1234; Datadog shows ****9876.",
                    "Update the trust policy.",
                    account_name=a.name,
                    ou_path=a.ou_path,
                )
            )
    return AuditResult(
        run=RunInfo("2025-03-01T02:00:00Z", "2025-03-01T02:30:00Z", "bench", "x"),
        inventory=Inventory(
            "o-1",
            "000000000000",
            "aws",
            (SCP,),
            (OrgUnit("r-1", "Root", "", "Root"),),
            accounts,
            (OrgPolicy("p-1", "deny", SCP, False, "", "{}", ("r-1",)),),
        ),
        audited_regions=regions,
        snapshots=snaps,
        findings=tuple(findings),
        regions=tuple(verdicts),
        exclusions=tuple(Exclusion(a.id, (), regions) for a in accounts),
    )


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    r = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    result = synthetic(n, r)
    with tempfile.TemporaryDirectory() as tmp:
        t0, c0 = time.perf_counter(), time.process_time()
        path = write_workbook(Path(tmp) / "audit.xlsx", result)
        took, cpu = time.perf_counter() - t0, time.process_time() - c0
        size = path.stat().st_size
    print(
        f"{n} accounts x {r} regions, {len(result.findings)} findings: "
        f"{took:.1f} s wall, {cpu:.1f} s CPU, {size / 1e6:.1f} MB"
    )


if __name__ == "__main__":
    main()
