"""Send a run's results to Datadog: after `auditor run` ([datadog] send_results), or again later with
`auditor datadog send-results --run DIR --config FILE` (a run made with sending off, or after an outage).

What is sent is built from the run (report/datadog_results.py) and goes out through the official
client (datadog/intake.py). Sending never changes the run's exit code or its files, apart from one
key of run.json, `datadog_results`, saying whether and when the results were sent. A run older
than [datadog] sync_max_run_age_hours is refused: its numbers would show as tonight's.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from auditor import clock
from auditor.commands.datadog_sync import SyncInputError, check_run_age, datadog_commands
from auditor.config import Config, ConfigError, load_config
from auditor.datadog.api import base_url
from auditor.datadog.intake import ResultsSender, SendOutcome
from auditor.exit_codes import ExitCode
from auditor.logsetup import register_secret
from auditor.model import AuditResult
from auditor.report.datadog_results import build_results
from auditor.report.load import RunLoadError
from auditor.report.run_folder import RunFolder
from auditor.terminal import shown

log = logging.getLogger("auditor.datadog")

RECORD_KEY = "datadog_results"  # run.json: whether the results reached Datadog
COMMAND = "datadog send-results"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `datadog send-results` to the `datadog` command group."""
    send = datadog_commands(subparsers).add_parser(
        "send-results",
        help="send a finished run's results (metrics and one event) to Datadog",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    send.add_argument("--run", required=True, metavar="DIR", help="run folder (holding run.json, findings.json)")
    send.add_argument("--config", required=True, metavar="FILE", help="auditor config (TOML)")
    send.set_defaults(handler=run_send_results)


def initial_record(cfg: Config) -> dict[str, Any]:
    """run.json's `datadog_results` as the run folder is first written (before any sending)."""
    return {"sent": False, "state": "pending" if cfg.datadog.send_results else "off"}


def send_after_run(cfg: Config, result: AuditResult, run_dir: Path, env: Mapping[str, str]) -> None:
    """`auditor run`'s step after the folder is written. Never raises: the exit code is the audit's."""
    try:
        send_results(cfg, result, run_dir, env, by="run")
    except Exception as exc:  # a bug here must not turn a finished audit into a failed run
        log.warning("Datadog: results not sent: internal error (%s)", type(exc).__name__, exc_info=True)


def send_results(
    cfg: Config,
    result: AuditResult,
    run_dir: Path,
    env: Mapping[str, str],
    *,
    by: str,
    now: datetime | None = None,
    sender_kwargs: Mapping[str, Any] | None = None,
) -> SendOutcome | None:
    """Build, send and record in run.json; one warning when anything was not sent. None: no API key."""
    now = now or clock.now()
    url = base_url(cfg.datadog, env)
    record: dict[str, Any] = {"at": clock.iso(now), "by": f"auditor {by}", "url": url}
    api_key = env.get("DD_API_KEY", "").strip()
    outcome: SendOutcome | None = None
    if not api_key:
        log.warning("Datadog: results not sent: DD_API_KEY is not set in the environment")
        record.update(sent=False, state="no_api_key")
    else:
        register_secret(api_key)
        payload = build_results(result, fail_on_severity=cfg.run.fail_on_severity,
                                result_tags=cfg.datadog.result_tags, run_dir=str(run_dir.resolve()))
        with ResultsSender(url, api_key, **dict(sender_kwargs or {})) as sender:
            outcome = sender.send(payload, int(now.timestamp()))
        record.update(_record(outcome))
        if outcome.sent:
            log.info("Datadog: results sent to %s: %d series and one event (%s)",
                     url, outcome.series, payload.event.alert_type)
        else:
            log.warning("Datadog: results not sent (the run folder is complete): %s", "; ".join(outcome.errors()))
    try:
        RunFolder(run_dir).update_run_json(RECORD_KEY, record)
    except (OSError, RunLoadError) as exc:
        log.warning("Datadog: could not record in run.json whether the results were sent: %s", exc)
    return outcome


def _record(outcome: SendOutcome) -> dict[str, Any]:
    parts = (outcome.metrics.sent, outcome.event.sent)
    state = "sent" if all(parts) else "partly_sent" if any(parts) else "failed"
    return {"sent": outcome.sent, "state": state, "series": outcome.series,
            "metrics": outcome.metrics.as_record(), "event": outcome.event.as_record()}


def run_send_results(
    args: argparse.Namespace,
    *,
    env: Mapping[str, str] | None = None,
    now: datetime | None = None,
    out: TextIO | None = None,
    sender_kwargs: Mapping[str, Any] | None = None,
) -> ExitCode:
    """The command. `env`, `now`, `out` and `sender_kwargs` exist for tests."""
    env = os.environ if env is None else env
    now = now or clock.now()
    out = out or sys.stdout
    run_dir = Path(args.run)
    try:
        cfg = load_config(args.config)
        check_run_age(run_dir, cfg.datadog, now, advice="run the audit again and send that run")
        result = RunFolder(run_dir).load_result()
        if not env.get("DD_API_KEY", "").strip():
            raise SyncInputError("DD_API_KEY must be set in the environment to send results to Datadog")
    except (ConfigError, SyncInputError, RunLoadError) as exc:
        print(shown(f"error: {exc}"), file=sys.stderr)
        log.error("send-results refused: %s", exc)
        return ExitCode.USAGE
    outcome = send_results(cfg, result, run_dir, env, by=COMMAND, now=now, sender_kwargs=sender_kwargs)
    assert outcome is not None  # the key was checked above
    if not outcome.sent:
        for error in outcome.errors():
            print(shown(f"error: {error}"), file=sys.stderr)
        return ExitCode.FAILED
    print(shown(f"sent: {outcome.series} series and one event for {run_dir} to {base_url(cfg.datadog, env)}"), file=out)
    return ExitCode.OK
