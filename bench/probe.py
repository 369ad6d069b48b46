"""The auditor's side of the benchmark: one full `auditor run`, timed, in its own process.

Run by bench/run.py with AWS_ENDPOINT_URL pointing at the simulated AWS. It calls the same
`auditor.commands.run.execute()` as `auditor run --config ...`, with light wrappers around the
pipeline's phases to time them (wall and CPU of this process, all threads). Prints one JSON
object: phases, CPU, peak memory (ru_maxrss), API calls, accounts read and errors.

When the analysis modules cannot be imported yet, it times the collection phases alone
(organization inventory + accounts) and says so (`"mode": "collect"`).
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import json
import pstats
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    # Appended, not prepended: PYTHONPATH may point at another copy of `auditor` to compare
    # (bench/run.py --auditor-path).
    sys.path.append(str(Path(__file__).resolve().parent.parent))


def cpu_seconds() -> float:
    """The auditor's CPU, its child processes included (the workbook is written by one)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        r = resource.getrusage(who)
        total += r.ru_utime + r.ru_stime
    return total


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def children_peak_rss_mb() -> float:
    """The largest peak of the auditor's finished child processes (the workbook writer)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0


class Phases:
    """Wall and CPU seconds per phase, in the order they ran."""

    def __init__(self, profile: str = "") -> None:
        self.profile = profile  # a phase to run under cProfile (top functions go to stderr)
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.peak_mb: dict[str, float] = {}  # peak RSS of the process when the phase ended

    def wrap(self, module: Any, attr: str, phase: str, keep: Callable[[Any], None] | None = None) -> None:
        original = getattr(module, attr, None)
        if original is None:
            return

        def timed(*args: Any, **kwargs: Any) -> Any:
            w, c = time.perf_counter(), cpu_seconds()
            profiler = cProfile.Profile() if phase == self.profile else None
            try:
                if profiler:
                    profiler.enable()
                out = original(*args, **kwargs)
            finally:
                if profiler:
                    profiler.disable()
                    pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(40)
                self.wall[phase] = self.wall.get(phase, 0.0) + time.perf_counter() - w
                self.cpu[phase] = self.cpu.get(phase, 0.0) + cpu_seconds() - c
                self.peak_mb[phase] = peak_rss_mb()
            if keep:
                keep(out)
            return out

        setattr(module, attr, timed)


def bench_config(workers: int, output_dir: Path) -> Any:
    from auditor.config import config_from_dict

    return config_from_dict({
        "organization": {"audit_role_name": "OrganizationAccountAccessRole"},
        "datadog": {"expected_values": "none"},
        "run": {"workers": workers, "home_region": "us-east-1"},
        "output": {"directory": str(output_dir), "keep_runs": 1},
    }, source="<bench>")


def run_full(workers: int, output_dir: Path, profile: str = "") -> dict[str, Any]:
    pipeline = importlib.import_module("auditor.pipeline")
    run_cmd = importlib.import_module("auditor.commands.run")
    phases = Phases(profile)
    kept: dict[str, Any] = {}
    # The organization is read in the background: "inventory" is the time the run waits for it
    # (the tree before the accounts, the policy listings after them).
    phases.wrap(pipeline.InventoryReader, "structure", "inventory")
    phases.wrap(pipeline.InventoryReader, "inventory", "inventory")
    phases.wrap(pipeline, "collect_accounts", "accounts")
    phases.wrap(pipeline, "analyze", "analysis")
    phases.wrap(run_cmd, "write_run", "report")
    phases.wrap(run_cmd, "run_audit", "run_audit", keep=lambda r: kept.__setitem__("result", r))
    original_gateway = run_cmd.AwsGateway

    def gateway(*args: Any, **kwargs: Any) -> Any:
        kept["gateway"] = g = original_gateway(*args, **kwargs)
        return g

    run_cmd.AwsGateway = gateway
    cfg = bench_config(workers, output_dir)
    w, c = time.perf_counter(), cpu_seconds()
    code, run_dir = run_cmd.execute(cfg, output_dir, quiet=True)
    wall, cpu = time.perf_counter() - w, cpu_seconds() - c
    result = kept.get("result")
    snapshots = result.snapshots if result is not None else ()
    return {
        "mode": "full", "exit_code": code, "run_dir": str(run_dir or ""), "wall": wall, "cpu": cpu,
        "phases_wall": phases.wall, "phases_cpu": phases.cpu, "phases_peak_mb": phases.peak_mb,
        "accounts": len(snapshots), "errors": sum(1 for s in snapshots if s.error),
        "error_codes": sorted({s.error.code for s in snapshots if s.error}),
        "api_calls": kept["gateway"].api_calls() if "gateway" in kept else {},
        "per_account_calls": sorted({s.api_calls for s in snapshots if not s.error}),
        "regions": len(result.audited_regions) if result is not None else 0,
        "verdicts": len(result.regions) if result is not None else 0,
        "findings": len(result.findings) if result is not None else 0,
    }


def run_collect(workers: int) -> dict[str, Any]:
    """The collection phases only (the analysis modules are not importable yet)."""
    from auditor.aws.gateway import AwsGateway
    from auditor.aws.organization import collect_inventory

    pipeline = importlib.import_module("auditor.pipeline")  # may fail too: then nothing to time
    cfg = bench_config(workers, Path(tempfile.mkdtemp()))
    gw = AwsGateway(cfg.run)
    w, c = time.perf_counter(), cpu_seconds()
    caller = gw.client("sts").get_caller_identity()
    inventory = collect_inventory(gw)
    w1, c1 = time.perf_counter(), cpu_seconds()
    scope = pipeline.select_scope(inventory, cfg)
    collected = pipeline.collect_accounts(gw, cfg, scope.audited, inventory.partition, caller["Account"])
    snaps = collected.snapshots if hasattr(collected, "snapshots") else collected[0]
    w2, c2 = time.perf_counter(), cpu_seconds()
    return {
        "mode": "collect", "wall": w2 - w, "cpu": c2 - c,
        "phases_wall": {"inventory": w1 - w, "accounts": w2 - w1},
        "phases_cpu": {"inventory": c1 - c, "accounts": c2 - c1},
        "accounts": len(snaps), "errors": sum(1 for s in snaps.values() if s.error),
        "error_codes": sorted({s.error.code for s in snaps.values() if s.error}),
        "api_calls": gw.api_calls(), "per_account_calls": sorted({s.api_calls for s in snaps.values() if not s.error}),
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="time one auditor run against the simulated AWS")
    p.add_argument("--workers", type=int, default=32)
    p.add_argument("--output-dir", type=Path, required=True)
    p.add_argument("--mode", choices=("auto", "full", "collect"), default="auto")
    p.add_argument("--profile", default="", help="phase to profile: inventory, accounts, analysis, report")
    a = p.parse_args(argv)
    mode = a.mode
    if mode == "auto":
        try:
            importlib.import_module("auditor.analysis")
            importlib.import_module("auditor.commands.run")
            mode = "full"
        except ImportError as exc:
            print(f"probe: analysis not importable ({exc}); timing collection only", file=sys.stderr)
            mode = "collect"
    out = run_full(a.workers, a.output_dir, a.profile) if mode == "full" else run_collect(a.workers)
    out["peak_rss_mb"] = peak_rss_mb()
    out["children_peak_rss_mb"] = children_peak_rss_mb()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
