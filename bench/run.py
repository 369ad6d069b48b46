"""Benchmark: the full `auditor run` against a simulated AWS with a fixed latency per call.

    python bench/run.py --sizes 100,1000 [--latency-ms 50] [--workers 32] [--throttle aws]
    python bench/run.py --sizes 100,1000,10000 --throttle aws --json bench-results.json

Per organization size N (a few dozen OUs, a few dozen SCPs/RCPs, N member accounts): starts
the simulated AWS in its own process (bench/simaws.py), runs the auditor in another
(bench/probe.py, i.e. `execute()` as `auditor run` does) and the naive baseline in a third
(bench/baseline.py, on a sample, extrapolated), then prints wall time against the lower bound
the latency imposes, API calls, CPU per account, peak memory, and PASS/FAIL per target.
Also: policy evaluation for 10000 accounts x 30 regions x 5 actions, and the analysis and
report writing time at 10000 accounts (bench/evaluation.py).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.orgshape import (
    CALLS_PER_ACCOUNT,
    PAGE,
    SEQUENTIAL_CALLS_PER_ACCOUNT,
    Shape,
    lower_bound,
    organization_calls,
)
from bench.simaws import parse_throttle

HERE = Path(__file__).resolve().parent
THROTTLE_PROFILES = {
    # Organizations: a few requests per second per operation; STS ~600/s per account; IAM per account.
    "aws": "organizations=5/10,sts=600/600,iam=100/100",
    # Tighter than AWS, so that the account phase is throttled too (STS for every AssumeRole).
    "tight": "organizations=2/5,sts=50/10,iam=20/5",
}

# Targets (the issue's): PASS/FAIL lines.
BOUND_RATIO_TARGET = 1.5  # wall <= 1.5 x lower bound at N = 1000, 50 ms per call
CPU_PER_ACCOUNT_TARGET_MS = 10.0
PEAK_MEMORY_TARGET_MB = 500.0
EVALUATION_TARGET_S = 5.0  # "a few seconds" for 10000 accounts x 30 regions x 5 actions
REPORT_TARGET_S = 10.0  # report writing at N = 10000 "in seconds"


# --- processes ---------------------------------------------------------------------------------


def _python(script: str, *args: str) -> list[str]:
    return [sys.executable, str(HERE / script), *args]


@dataclass
class SimulatedAws:
    """The simulated AWS process (our child: stopped by its own pid)."""

    accounts: int
    latency_ms: float
    throttle: str
    proc: subprocess.Popen[str] | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def __enter__(self) -> SimulatedAws:
        args = ["--accounts", str(self.accounts), "--latency-ms", str(self.latency_ms)]
        if self.throttle:
            args += ["--throttle", self.throttle]
        self.proc = subprocess.Popen(_python("simaws.py", *args), stdout=subprocess.PIPE, text=True)
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(self.proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(timeout=600)
        if not line or not line[0].strip():
            self.__exit__()
            raise SystemExit(f"the simulated AWS did not start for N={self.accounts}")
        self.info = json.loads(line[0])
        return self

    def __exit__(self, *_: Any) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.info['port']}"

    def control(self, what: str) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/__bench/{what}", timeout=30) as r:
            return dict(json.load(r))

    def env(self, auditor_path: Path | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DD_"))}
        env.update(AWS_ENDPOINT_URL=self.url, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                   AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
                   PYTHONPATH=os.pathsep.join(str(p) for p in (auditor_path, HERE.parent) if p))
        return env


def run_json(cmd: list[str], env: dict[str, str] | None = None, timeout: float = 7200) -> dict[str, Any]:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    lines = [x for x in done.stdout.splitlines() if x.startswith("{")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"{' '.join(cmd[1:3])} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return dict(json.loads(lines[-1]))


# --- one size ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    latency_ms: float
    workers: int
    baseline_sample: int
    keep_output: Path | None
    auditor_path: Path | None = None  # another copy of the `auditor` package to time (before/after)


def measure(n: int, s: Settings, throttle: str = "") -> dict[str, Any]:
    shape = Shape(n)
    throttle = resolve_throttle(throttle)
    with SimulatedAws(n, s.latency_ms, throttle) as aws:
        out_dir = Path(tempfile.mkdtemp(prefix="auditor-bench-")) if s.keep_output is None else s.keep_output
        aws.control("reset")
        probe = run_json(_python("probe.py", "--workers", str(s.workers), "--output-dir", str(out_dir / f"n{n}")),
                         env=aws.env(s.auditor_path))
        server = aws.control("stats")
        baseline: dict[str, Any] | None = None
        if s.baseline_sample and not throttle:
            aws.control("reset")
            sample = aws.info["sample_members"][: s.baseline_sample]
            baseline = run_json(_python("baseline.py", "--accounts", ",".join(sample)), env=aws.env())
    audited = probe["accounts"]
    bound = lower_bound(shape, audited=audited, workers=s.workers, latency=s.latency_ms / 1000.0)
    return {"n": n, "shape": shape.__dict__, "throttle": throttle, "latency_ms": s.latency_ms,
            "workers": s.workers, "build_seconds": aws.info["build_seconds"], "probe": probe, "server": server,
            "baseline": baseline, "bound": {"seconds": bound.seconds, "organization_round_trips":
                                            bound.organization_round_trips, "tree_round_trips": bound.tree_round_trips,
                                            "policy_round_trips": bound.policy_round_trips,
                                            "account_rounds": bound.account_rounds,
                                            "sequential_calls_per_account":
                                                bound.sequential_calls_per_account},
            "expected_organization_calls": organization_calls(shape)}


def resolve_throttle(spec: str) -> str:
    """A profile name or a spec -> the spec (checked)."""
    spec = THROTTLE_PROFILES.get(spec, spec)
    parse_throttle(spec)  # fail early on a bad spec
    return spec


# --- bounds under throttling -------------------------------------------------------------------


TREE_OPERATIONS = (
    "organizations.DescribeOrganization",
    "organizations.ListRoots",
    "organizations.ListOrganizationalUnitsForParent",
    "organizations.ListAccountsForParent",
)


def throttled_bound(m: dict[str, Any]) -> float:
    """Lower bound with token buckets: per phase, the larger of the latency bound and the time the
    busiest bucket needs for the calls the phase makes (Organizations: per operation; STS: one
    caller; IAM: per account, never binding at 4 calls)."""
    rates = parse_throttle(m["throttle"])
    calls = m["probe"]["api_calls"]
    latency = m["latency_ms"] / 1000.0
    org_bound = m["bound"]["organization_round_trips"] * latency
    tree_bound = m["bound"]["tree_round_trips"] * latency
    if "organizations" in rates:
        rate, burst = rates["organizations"]

        def busiest(ops: tuple[str, ...]) -> float:
            return max((max(0.0, c - burst) / rate for k, c in calls.items() if k.startswith(ops)), default=0)

        org_bound = max(org_bound, busiest(("organizations.",)))
        tree_bound = max(tree_bound, busiest(TREE_OPERATIONS))
    account_bound = m["bound"]["account_rounds"] * m["bound"]["sequential_calls_per_account"] * latency
    if "sts" in rates:
        rate, burst = rates["sts"]
        account_bound = max(account_bound, max(0.0, calls.get("sts.AssumeRole", 0) - burst) / rate)
    # The accounts wait for the tree only; the policies' listings run alongside them.
    return max(tree_bound + account_bound, org_bound)


# --- report ------------------------------------------------------------------------------------


def _mark(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report_size(m: dict[str, Any], checks: list[str]) -> list[str]:
    p, n, b = m["probe"], m["n"], m["bound"]
    shape = Shape(**m["shape"])
    lat = m["latency_ms"]
    phases = p["phases_wall"]
    collection = phases.get("inventory", 0.0) + phases.get("accounts", 0.0)
    audited = p["accounts"]
    org_calls = sum(v for k, v in p["api_calls"].items() if k.startswith("organizations."))
    per_account = max(p["per_account_calls"] or [0])
    cpu_collect_ms = 1000.0 * (p["phases_cpu"].get("inventory", 0.0) + p["phases_cpu"].get("accounts", 0.0)) / audited
    cpu_all_ms = 1000.0 * p["cpu"] / audited
    ratio, ratio_collect = p["wall"] / b["seconds"], collection / b["seconds"]
    title = f"N = {n} member accounts ({shape.ous} OUs, {shape.scps} SCPs + {shape.rcps} RCPs + 2 AWS-managed)"
    lines = [
        "", f"== {title}, {lat:g} ms per call, {m['workers']} workers, "
        + (f"throttling {m['throttle']}" if m["throttle"] else "no throttling") + " ==",
        f"  simulated AWS: built in {m['build_seconds']:.1f} s; served {sum(m['server']['calls'].values())} calls"
        f" ({sum(m['server']['throttled'].values())} throttled); its CPU {m['server']['cpu_seconds']:.1f} s"
        " (not counted)",
        f"  auditor run ({p['mode']}): wall {p['wall']:.1f} s = "
        + " | ".join(f"{k} {v:.1f}" for k, v in phases.items() if k != "run_audit")
        + (f" | other {p['wall'] - phases.get('run_audit', 0) - phases.get('report', 0):.1f}" if "run_audit" in phases
           else ""),
        f"  lower bound {b['seconds']:.2f} s = max({b['tree_round_trips']} dependent round trips to walk the tree"
        f" + ceil({audited}/{m['workers']}) = {b['account_rounds']} rounds x {b['sequential_calls_per_account']}"
        f" sequential calls per account (the 6th, ec2:DescribeRegions, runs beside them),"
        f" {b['policy_round_trips']} dependent round trips to list the policies' targets)"
        f" x {lat:g} ms",
        f"  wall / bound: {ratio:.2f} (collection phases alone: {collection:.1f} s, {ratio_collect:.2f})",
        f"  accounts read {audited}, errors {p['errors']} {p['error_codes'] or ''}".rstrip(),
        f"  API calls {sum(p['api_calls'].values())}: "
        + ", ".join(f"{k} {v}" for k, v in p["api_calls"].items()),
        f"  Organizations calls {org_calls} (efficient count for this shape: {m['expected_organization_calls']} ="
        f" tree walk + per policy DescribePolicy + ListTargetsForPolicy pages; accounts/{PAGE} pages);"
        f" per account {per_account} (AssumeRole, GetRole, ListAttachedRolePolicies, ListRolePolicies,"
        f" GetRolePolicy, and ec2:DescribeRegions beside the IAM reads; the management account skips"
        " AssumeRole)",
        f"  auditor CPU per account: {cpu_collect_ms:.1f} ms collecting, {cpu_all_ms:.1f} ms whole run"
        f" (CPU {p['cpu']:.1f} s, the workbook's child process included); peak memory {p['peak_rss_mb']:.0f} MB"
        + (f", workbook child {p['children_peak_rss_mb']:.0f} MB" if p.get("children_peak_rss_mb") else "")
        + (" (after: " + ", ".join(f"{k} {v:.0f}" for k, v in p.get("phases_peak_mb", {}).items()) + " MB)"
           if p.get("phases_peak_mb") else ""),
    ]
    if m["baseline"]:
        bl = m["baseline"]
        per_wall, per_cpu = bl["wall"] / bl["sample"], bl["cpu"] / bl["sample"]
        list_pages = math.ceil((n + 1) / PAGE)
        total = per_wall * audited + list_pages * bl["list_wall"] / max(1, bl["list_pages"])
        per_calls = sum(v for k, v in bl["api_calls"].items() if k != "organizations.ListAccounts") / bl["sample"]
        lines += [
            f"  naive baseline (serial; new boto3 session, ListParents walk, ListPoliciesForTarget + DescribePolicy"
            f" per level; measured on {bl['sample']} accounts, extrapolated to {audited}): wall ~{total:.0f} s"
            f" ({total / p['wall']:.0f}x the auditor), {per_calls:.0f} calls per account + {list_pages} ListAccounts"
            f" pages, CPU {1000 * per_cpu:.0f} ms per account",
        ]
    if m["throttle"]:
        tb = throttled_bound(m)
        lines.append(f"  throttle bound {tb:.1f} s (per phase: latency bound or busiest token bucket, the larger);"
                     f" collection {collection:.1f} s = {collection / tb:.2f}x; throttled calls retried:"
                     f" {sum(m['server']['throttled'].values())} (botocore backs off up to 2^attempt s per retry:"
                     " at small N that, not the bucket, sets the time)")
        checks.append(f"{_mark(p['errors'] == 0 and audited == n + 1)}  N={n} throttled: no account lost"
                      f" ({audited} of {n + 1} read, {p['errors']} errors)")
        checks.append(f"{_mark(collection <= BOUND_RATIO_TARGET * tb)}  N={n} throttled: collection"
                      f" {collection:.1f} s within {BOUND_RATIO_TARGET}x of the throttle bound {tb:.1f} s")
        return lines
    if n == 1000 and lat == 50:
        checks.append(f"{_mark(ratio <= BOUND_RATIO_TARGET)}  N=1000, 50 ms: full run {p['wall']:.1f} s within"
                      f" {BOUND_RATIO_TARGET}x of the bound {b['seconds']:.1f} s ({ratio:.2f}x)")
        checks.append(f"{_mark(ratio_collect <= BOUND_RATIO_TARGET)}  N=1000, 50 ms: collection phases"
                      f" {collection:.1f} s within {BOUND_RATIO_TARGET}x of the bound ({ratio_collect:.2f}x)")
    checks.append(f"{_mark(org_calls <= m['expected_organization_calls'])}  N={n}: Organizations calls {org_calls}"
                  f" <= O(OUs + policies + accounts/20) count {m['expected_organization_calls']}")
    checks.append(f"{_mark(per_account <= CALLS_PER_ACCOUNT)}  N={n}: calls per account {per_account}"
                  f" <= {CALLS_PER_ACCOUNT} (role with one inline policy)"
                  f"; {SEQUENTIAL_CALLS_PER_ACCOUNT} of them one after another")
    if n >= 1000:  # below, the fixed start-up cost (service models, clients) dominates the per-account figure
        checks.append(f"{_mark(cpu_collect_ms < CPU_PER_ACCOUNT_TARGET_MS)}  N={n}: auditor CPU per account"
                      f" {cpu_collect_ms:.1f} ms < {CPU_PER_ACCOUNT_TARGET_MS:g} ms (collection; whole run"
                      f" {cpu_all_ms:.1f} ms)")
    if n >= 10000:
        # The workbook's child process shares the parent's pages (fork), so each is held to the target.
        child = p.get("children_peak_rss_mb", 0.0)
        checks.append(f"{_mark(max(p['peak_rss_mb'], child) < PEAK_MEMORY_TARGET_MB)}  N={n}: peak memory"
                      f" {p['peak_rss_mb']:.0f} MB" + (f" (workbook child {child:.0f} MB)" if child else "")
                      + f" < {PEAK_MEMORY_TARGET_MB:g} MB")
    return lines


def report_evaluation(ev: dict[str, Any], rep: dict[str, Any] | None, checks: list[str]) -> list[str]:
    lines = [
        "", f"== policy evaluation: {ev['accounts']} accounts x {ev['regions']} regions x {ev['actions']} actions ==",
        f"  evaluate_regions {ev['seconds']:.2f} s; decisions requested {ev['requests']}, evaluated"
        f" {ev['evaluations']} (the rest from the cache per distinct policy chain); {ev['verdicts']} verdicts;"
        f" peak memory {ev['peak_rss_mb']:.0f} MB",
    ]
    checks.append(f"{_mark(ev['seconds'] < EVALUATION_TARGET_S)}  policy evaluation {ev['accounts']} x {ev['regions']}"
                  f" x {ev['actions']}: {ev['seconds']:.2f} s < {EVALUATION_TARGET_S:g} s")
    if rep:
        lines += [
            "", f"== analysis + report writing at {rep['accounts']} accounts x {rep['regions']} regions"
            " (generated data) ==",
            f"  analysis {rep['analysis_seconds']:.1f} s, write_run {rep['report_seconds']:.1f} s;"
            f" {rep['findings']} findings, {rep['verdicts']} verdicts; peak memory {rep['peak_rss_mb']:.0f} MB"
            f" (after analysis {rep['peak_after_analysis_mb']:.0f} MB)"
            + (f"; workbook child process {rep['children_peak_rss_mb']:.0f} MB" if rep.get("children_peak_rss_mb")
               else ""),
            "  files (MB): " + ", ".join(f"{k} {v}" for k, v in rep["files_mb"].items()),
        ]
        checks.append(f"{_mark(rep['report_seconds'] < REPORT_TARGET_S)}  report writing at {rep['accounts']} accounts:"
                      f" {rep['report_seconds']:.1f} s < {REPORT_TARGET_S:g} s")
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--sizes", default="100,1000", help="member accounts per run, comma-separated")
    p.add_argument("--latency-ms", type=float, default=50.0, help="simulated latency per AWS call")
    p.add_argument("--workers", type=int, default=32, help="[run] workers of the auditor")
    p.add_argument("--throttle", default="", help="also run throttled: 'aws', 'tight' or service=rate[/burst],...")
    p.add_argument("--throttle-sizes", default="", help="sizes to run throttled (default: 1000 if in --sizes)")
    p.add_argument("--baseline-sample", type=int, default=20, help="accounts the naive baseline reads (0: skip)")
    p.add_argument("--evaluation-accounts", type=int, default=10000, help="policy evaluation size (0: skip)")
    p.add_argument("--report-accounts", type=int, default=10000,
                   help="analysis + report writing size, generated data (0: skip)")
    p.add_argument("--json", type=Path, help="write every measurement here")
    p.add_argument("--keep-output", type=Path, help="keep the auditor's run folders here")
    p.add_argument("--auditor-path", type=Path, help="directory holding another `auditor` package to time instead")
    a = p.parse_args(argv)
    sizes = [int(x) for x in a.sizes.split(",") if x.strip()]
    settings = Settings(a.latency_ms, a.workers, a.baseline_sample, a.keep_output, a.auditor_path)
    results: dict[str, Any] = {"settings": {k: str(v) if isinstance(v, Path) else v
                                            for k, v in settings.__dict__.items()}, "runs": []}
    checks: list[str] = []
    out: list[str] = [f"auditor benchmark: sizes {sizes}, {a.latency_ms:g} ms per call, {a.workers} workers,"
                      f" {os.cpu_count()} CPUs, Python {sys.version.split()[0]}"]

    def emit(lines: list[str]) -> None:
        out.extend(lines)
        print("\n".join(lines), flush=True)

    emit(out[:1])
    out.clear()
    for n in sizes:
        m = measure(n, settings)
        results["runs"].append(m)
        emit(report_size(m, checks))
    if a.throttle:
        throttled = [int(x) for x in a.throttle_sizes.split(",") if x.strip()] or (
            [1000] if 1000 in sizes else sizes[:1])
        for n in throttled:
            m = measure(n, settings, a.throttle)
            results["runs"].append(m)
            emit(report_size(m, checks))
    if a.evaluation_accounts:
        ev = run_json(_python("evaluation.py", "--accounts", str(a.evaluation_accounts), "--regions", "30",
                              "--actions", "5"))
        rep = run_json(_python("evaluation.py", "--accounts", str(a.report_accounts), "--regions", "30",
                               "--actions", "5", "--report")) if a.report_accounts else None
        results["evaluation"], results["report"] = ev, rep
        emit(report_evaluation(ev, rep, checks))
    emit(["", "== targets ==", *(f"  {c}" for c in checks)])
    if a.json:
        results["checks"] = checks
        a.json.write_text(json.dumps(results, indent=1, default=str))
    return 0 if all(c.startswith("PASS") for c in checks) else 1


if __name__ == "__main__":
    started = time.perf_counter()
    code = main()
    print(f"\n(benchmark took {time.perf_counter() - started:.0f} s)", file=sys.stderr)
    sys.exit(code)
