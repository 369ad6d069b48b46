"""Time the pure phases at scale: policy evaluation, then (optionally) analysis + report writing.

`evaluate_regions` over a generated organization (bench/synthetic.py) of N accounts x R regions
x A probe actions: seconds, decisions requested vs. actually evaluated (the rest come from the
cache per distinct policy chain). With --report-dir, the whole analysis and `write_run` (CSV,
JSON, workbook) on the same data. Runs in its own process; prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.orgshape import Shape


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def children_peak_rss_mb() -> float:
    """The largest peak of finished child processes (the workbook is written by one)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0


def regions(count: int) -> tuple[str, ...]:
    import boto3

    return tuple(sorted(boto3.Session().get_available_regions("ec2", partition_name="aws")))[:count]


def evaluate(accounts: int, region_count: int, action_count: int) -> dict[str, Any]:
    from auditor.config import DEFAULT_PROBE_ACTIONS
    from auditor.policy.matrix import evaluate_regions
    from bench import synthetic

    inventory, snapshots = synthetic.build(Shape(accounts))
    audited = regions(region_count)
    actions = DEFAULT_PROBE_ACTIONS[:action_count]
    before = peak_rss_mb()
    w = time.perf_counter()
    analysis = evaluate_regions(inventory, snapshots, regions=audited, probe_actions=actions,
                                site="datadoghq.com", role_name="DatadogIntegrationRole", exclude_partial=True)
    seconds = time.perf_counter() - w
    return {
        "accounts": len(inventory.accounts), "regions": len(audited), "actions": len(actions), "seconds": seconds,
        "requests": analysis.requests, "evaluations": analysis.evaluations, "verdicts": len(analysis.verdicts),
        "rss_before_mb": before, "peak_rss_mb": peak_rss_mb(),
    }


def analyse_and_write(accounts: int, region_count: int, action_count: int, out: Path) -> dict[str, Any]:
    from auditor import __version__
    from auditor.analysis import analyze
    from auditor.config import DEFAULT_PROBE_ACTIONS, config_from_dict
    from auditor.model import AnalysisSettings, AuditResult, RunInfo
    from auditor.report.writer import write_run
    from bench import synthetic

    inventory, snapshots = synthetic.build(Shape(accounts))
    audited = regions(region_count)
    actions = DEFAULT_PROBE_ACTIONS[:action_count]
    cfg = config_from_dict({"datadog": {"expected_values": "none"},
                            "regions": {"audited": list(audited), "probe_actions": list(actions)}})
    w = time.perf_counter()
    analysis = analyze(inventory, snapshots, cfg=cfg, regions=audited, expected={}, aws_managed_documents={})
    findings, verdicts, exclusions = analysis.findings, analysis.verdicts, analysis.exclusions
    analysis_seconds = time.perf_counter() - w
    after_analysis = peak_rss_mb()
    result = AuditResult(
        run=RunInfo("2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", __version__, cfg.digest),
        inventory=inventory, audited_regions=audited, snapshots=tuple(snapshots[a.id] for a in inventory.accounts),
        findings=tuple(findings), regions=tuple(verdicts), exclusions=tuple(exclusions),
        settings=AnalysisSettings(cfg.datadog.site, cfg.datadog.role_name, actions, cfg.regions.exclude_partial),
    )
    w = time.perf_counter()
    run_dir = write_run(result, out)
    report_seconds = time.perf_counter() - w
    return {
        "accounts": len(inventory.accounts), "regions": len(audited), "analysis_seconds": analysis_seconds,
        "report_seconds": report_seconds, "findings": len(findings), "verdicts": len(verdicts),
        "peak_after_analysis_mb": after_analysis, "peak_rss_mb": peak_rss_mb(),
        "children_peak_rss_mb": children_peak_rss_mb(),
        "files_mb": {p.name: round(p.stat().st_size / 2**20, 1) for p in sorted(run_dir.iterdir())},
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    p.add_argument("--accounts", type=int, default=10000)
    p.add_argument("--regions", type=int, default=30)
    p.add_argument("--actions", type=int, default=5)
    p.add_argument("--report", action="store_true", help="time analysis + write_run instead of evaluate_regions")
    p.add_argument("--report-dir", type=Path, help="where the report goes (default: a temporary folder)")
    a = p.parse_args(argv)
    if a.report:
        out = analyse_and_write(a.accounts, a.regions, a.actions, a.report_dir or Path(tempfile.mkdtemp()))
    else:
        out = evaluate(a.accounts, a.regions, a.actions)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
