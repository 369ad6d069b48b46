"""`auditor run`: the nightly job. Also the shared `execute()` that `auditor demo` uses."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import boto3

from auditor.aws.gateway import AwsGateway
from auditor.commands.datadog_send import RECORD_KEY, initial_record, send_after_run
from auditor.config import Config, ConfigError, load_config
from auditor.datadog.expected import ExpectedValuesError
from auditor.exit_codes import ExitCode
from auditor.heap import frozen_heap
from auditor.lock import LockBusy, output_lock
from auditor.logsetup import register_secret, setup_logging
from auditor.model import AuditResult, Severity, Status
from auditor.pipeline import ProgressBar, RunError, run_audit
from auditor.report.history import apply_history, current_findings
from auditor.report.retention import apply_retention
from auditor.report.run_folder import RunFolder
from auditor.report.writer import write_run
from auditor.safefs import UnsafePath, output_folder_warning
from auditor.stop import Interrupted, StopGate, stop_signal_name
from auditor.terminal import shown

log = logging.getLogger("auditor")



def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("run", help="audit the organization and write a run folder")
    p.add_argument("--config", required=True, type=Path, help="TOML config (see config/auditor.example.toml)")
    add_run_options(p)
    p.set_defaults(handler=handle)


def add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--output-dir", type=Path, help="where run folders go (default: [output] directory)")
    p.add_argument("--workers", type=int, help="accounts read concurrently (default: [run] workers)")
    p.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only (for cron)")


def exit_code_for(result: AuditResult, cfg: Config) -> ExitCode:
    threshold = Severity(cfg.run.fail_on_severity).rank
    failing = any(
        f.status is Status.FAIL and f.severity.rank >= threshold for f in current_findings(result.findings)
    )
    return ExitCode.FAILED if failing else ExitCode.OK


@contextmanager
def progress_bar(enabled: bool) -> Iterator[ProgressBar | None]:
    """A tqdm bar on stderr for people at a terminal, counting from the first account read and
    showing the total once Organizations is walked (tqdm's unknown-total mode); cleared when the
    run ends. Nothing under cron."""
    if not enabled:
        yield None
        return
    from tqdm import tqdm

    # delay: no empty bar among the start-up log lines of a run that reads its first account quickly.
    with tqdm(total=None, unit="account", file=sys.stderr, leave=False, delay=0.5) as bar:
        yield bar


def execute(
    cfg: Config,
    output_dir: Path,
    *,
    session: boto3.Session | None = None,
    quiet: bool = False,
    env: Mapping[str, str] | None = None,
) -> tuple[ExitCode, Path | None]:
    """Run the audit and write the run folder: (exit code, run folder or None when nothing was written)."""
    env = os.environ if env is None else env
    register_secret(cfg.organization.audit_role_external_id)
    for key in ("DD_API_KEY", "DD_APP_KEY"):
        register_secret(env.get(key))
    try:
        log_path = setup_logging(cfg.logging, output_dir, quiet=quiet)
    except ConfigError as exc:
        print(shown(f"auditor: config error: {exc}"), file=sys.stderr)
        return ExitCode.USAGE, None
    except UnsafePath as exc:
        print(shown(f"auditor: not started: {exc.strerror}"), file=sys.stderr)
        return ExitCode.USAGE, None
    warning = output_folder_warning(output_dir)
    if warning:
        log.warning("%s", warning)
    stop = StopGate()
    try:
        with stop.installed(), output_lock(output_dir, wait=cfg.output.lock == "wait",
                                            timeout_seconds=cfg.output.lock_timeout_seconds, on_wait=log.warning):
            return _run_locked(cfg, output_dir, session, quiet, env, stop, log_path)
    except LockBusy as exc:
        log.error("not started: %s", exc)
        return ExitCode.INCOMPLETE, None
    except UnsafePath as exc:
        log.error("not started: %s", exc.strerror)
        return ExitCode.USAGE, None
    except (Interrupted, KeyboardInterrupt) as exc:
        name = stop_signal_name(exc)
        log.error("interrupted by %s before any account result: nothing was written", name)
        return ExitCode.INCOMPLETE, None


def _run_locked(
    cfg: Config,
    output_dir: Path,
    session: boto3.Session | None,
    quiet: bool,
    env: Mapping[str, str],
    stop: StopGate,
    log_path: Path | None,
) -> tuple[ExitCode, Path | None]:
    gateway = AwsGateway(cfg.run, session)
    try:
        with progress_bar(sys.stderr.isatty() and not quiet) as bar:
            result = run_audit(cfg, gateway, env=env, progress=bar, stops=stop)
    except RunError as exc:
        log.error("%s", exc)
        return ExitCode.INCOMPLETE, None
    except ExpectedValuesError as exc:
        log.error("expected values: %s", exc)
        return ExitCode.USAGE, None
    except ConfigError as exc:  # [regions] audited outside the partition: known once AWS said who we are
        log.error("config error: %s", exc)
        return ExitCode.USAGE, None
    for e in result.expected:
        register_secret(e.external_id)
    with frozen_heap():  # the result lives until written: the report's garbage collections skip it
        result = apply_history(result, output_dir)
        code = exit_code_for(result, cfg) if result.run.complete else ExitCode.INCOMPLETE
        try:
            run_dir = write_run(result, output_dir, exit_code=code, show_external_ids=cfg.datadog.show_external_ids,
                                extra={RECORD_KEY: initial_record(cfg)})
        except OSError as exc:
            log.error("could not write the run folder under %s: %s", output_dir, exc)
            return ExitCode.INCOMPLETE, None
    if noted := stop.noted():  # held since the first account may be read (StopGate.hold)
        log.warning("%s received and not acted on: the run folder was finished first", ", ".join(noted))
    if result.run.complete:
        apply_retention(output_dir, cfg.output.keep_runs, run_dir)
    else:
        log.error("run incomplete (%s); the run folder holds what finished: %s", result.run.incomplete_reason, run_dir)
    if cfg.datadog.send_results:  # after the folder is written; never changes `code`
        send_after_run(cfg, result, run_dir, env)
    _print_summary(result, run_dir, log_path, quiet)
    return code, run_dir


def _print_summary(result: AuditResult, run_dir: Path, log_path: Path | None, quiet: bool) -> None:
    errored = sum(1 for s in result.snapshots if s.error)
    failing = sum(1 for f in current_findings(result.findings) if f.status is Status.FAIL)
    log.info(
        "audited %d accounts (%d errors, %d skipped): %d failing findings",
        len(result.snapshots) - errored, errored, len(result.skipped), failing,
    )
    if not quiet:
        print(shown(f"results: {run_dir}"), file=sys.stderr)
        print(shown(f"workbook: {RunFolder(run_dir).workbook}"), file=sys.stderr)
        if log_path:
            print(shown(f"log: {log_path}"), file=sys.stderr)


def handle(args: argparse.Namespace) -> ExitCode:
    try:
        cfg = load_config(args.config)
        if args.workers is not None:
            if not 1 <= args.workers <= 512:
                raise ConfigError(f"--workers {args.workers} is not allowed; between 1 and 512")
            cfg = replace(cfg, run=replace(cfg.run, workers=args.workers))
    except ConfigError as exc:
        print(shown(f"auditor: config error: {exc}"), file=sys.stderr)
        return ExitCode.USAGE
    output_dir = args.output_dir or Path(cfg.output.directory)
    return execute(cfg, output_dir, quiet=args.quiet)[0]
