"""`auditor run` with [datadog] send_results, and `auditor datadog send-results`, against the local
Datadog double: what arrives matches the run's findings, and a failing Datadog changes nothing else."""

from __future__ import annotations

import argparse
import io
import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

import auditor.datadog.intake as intake_module
from auditor.commands.datadog_send import run_send_results
from auditor.commands.run import execute
from auditor.config import Config, load_config
from auditor.demo.moto_trust import enforce_role_trust
from auditor.demo.organization import build_demo_org
from tests.doubles.datadog_double import API_KEY, FakeDatadogIntake, threaded_server

FILES_UNCHANGED = ("findings.json", "findings.csv", "regions.csv", "exclusions.json")
# What differs between two runs of the same organization: the times, the API call counts (retries),
# the config digest (send_results differs) and the send record itself.
RUN_TIMES = {"started_at", "finished_at", "api_calls", "api_calls_total", "config_digest", "datadog_results"}


@pytest.fixture
def intake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDatadogIntake]:
    monkeypatch.setattr(intake_module, "TIMEOUT", (2.0, 0.3))  # the client's own timeouts, shortened
    monkeypatch.setattr(intake_module, "MAX_RETRIES", 1)
    monkeypatch.setattr(intake_module, "BACKOFF_FACTOR", 0.0)
    with threaded_server() as server:
        fake = FakeDatadogIntake(server)
        fake.install()
        yield fake


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A moto organization, kept for the module: each test runs the audit into its own folder."""
    with mock_aws(), enforce_role_trust():
        session = boto3.Session(aws_access_key_id="AKIADEMO", aws_secret_access_key="x", region_name="us-east-1")
        build_demo_org(session, 12)
        yield {"session": session, "base": tmp_path_factory.mktemp("ddresults")}


def _config(base: Path, url: str, *, send: bool, tags: str = '["env:test"]') -> Path:
    path = base / f"auditor-{send}.toml"
    path.write_text(
        '[organization]\naudit_role_name = "OrganizationAccountAccessRole"\n'
        f'[datadog]\nexpected_values = "none"\napi_url = "{url}"\nsend_results = {str(send).lower()}\n'
        f"result_tags = {tags}\nsync_max_run_age_hours = 6\n"
        '[regions]\naudited = ["us-east-1", "eu-west-1", "ap-southeast-1"]\n[run]\nworkers = 4\n'
    )
    path.chmod(0o600)
    return path


def _run(org: dict[str, Any], name: str, cfg: Config, env: dict[str, str]) -> tuple[int, Path]:
    code, run_dir = execute(cfg, org["base"] / name, session=org["session"], quiet=True, env=env)
    assert run_dir is not None
    return code, run_dir


def _failing_by_check(run_dir: Path) -> Counter[tuple[str, str]]:
    findings = json.loads((run_dir / "findings.json").read_text())
    return Counter((f["check"], f["severity"]) for f in findings
                   if f["status"] in ("fail", "error") and f["change"] != "resolved")


def _series(intake: FakeDatadogIntake, metric: str) -> dict[frozenset[str], float]:
    return {frozenset(s["tags"]): s["points"][0]["value"] for s in intake.sent_series() if s["metric"] == metric}


def test_the_series_and_the_event_match_the_runs_findings(org, intake, tmp_path) -> None:
    cfg = load_config(_config(tmp_path, intake.url(), send=True))
    code, run_dir = _run(org, "sent", cfg, {"DD_API_KEY": API_KEY})
    assert code == 1  # the demo organization has failing findings at high
    run = json.loads((run_dir / "run.json").read_text())
    org_tag = f"aws_org_id:{run['organization_id']}"
    failing = _series(intake, "datadog_org_auditor.findings.failing")
    sent = {tuple(sorted(t for t in tags if t.startswith(("check:", "severity:")))): v for tags, v in failing.items()}
    expected = _failing_by_check(run_dir)
    assert {k: v for k, v in sent.items() if v} == {
        (f"check:{c}", f"severity:{s}"): n for (c, s), n in expected.items()
    }
    assert all({org_tag, "env:test"} <= tags for tags in failing)
    accounts = _series(intake, "datadog_org_auditor.accounts")
    assert sum(accounts.values()) == run["accounts_total"]
    assert accounts[frozenset({"state:skipped", org_tag, "env:test"})] == run["accounts_skipped"]
    excluded = sum(len(e["exclude"]) for e in json.loads((run_dir / "exclusions.json").read_text()))
    assert _series(intake, "datadog_org_auditor.regions.excluded") == {frozenset({org_tag, "env:test"}): excluded}
    assert _series(intake, "datadog_org_auditor.run.complete") == {frozenset({org_tag, "env:test"}): 1.0}
    [event] = intake.events
    assert event["alert_type"] == "error" and event["text"].endswith(f"Run folder: {run_dir.resolve()}")
    findings = json.loads((run_dir / "findings.json").read_text())
    for f in findings:
        if f["status"] in ("fail", "error"):  # a first run: every failing finding is new
            assert f"] {f['check']}: {f['account_id']}" in event["text"]
    assert run["datadog_results"]["sent"] is True and run["datadog_results"]["state"] == "sent"
    assert run["datadog_results"]["series"] == len(intake.sent_series())


def _same_folder_but_the_send_record(a: Path, b: Path) -> None:
    for name in FILES_UNCHANGED:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    ra, rb = (json.loads((d / "run.json").read_text()) for d in (a, b))
    assert {k: v for k, v in ra.items() if k not in RUN_TIMES} == {k: v for k, v in rb.items() if k not in RUN_TIMES}
    assert sorted(p.name for p in a.iterdir()) == sorted(p.name for p in b.iterdir())


@pytest.mark.parametrize(("fault", "status", "reason"), [
    ("series_status", 500, "failed with HTTP 500: server error"),
    ("series_delay", None, "no answer (ReadTimeoutError)"),
    ("wrong_key", 403, "failed with HTTP 403: the API key is not valid"),
])
def test_a_failing_datadog_is_one_warning_and_changes_nothing_but_run_json_record(
    org, intake, tmp_path, fault, status, reason
) -> None:
    off_code, off_dir = _run(org, f"off-{fault}", load_config(_config(tmp_path, intake.url(), send=False)),
                             {"DD_API_KEY": API_KEY})
    assert not intake.series and not intake.events  # sending off: nothing goes out
    key = API_KEY
    if fault == "wrong_key":
        key = "ddapikey-not-the-right-one-000000"
    else:
        setattr(intake, fault, 500 if fault == "series_status" else 1.0)
    code, run_dir = _run(org, f"fail-{fault}", load_config(_config(tmp_path, intake.url(), send=True)),
                         {"DD_API_KEY": key})
    assert code == off_code
    _same_folder_but_the_send_record(off_dir, run_dir)
    record = json.loads((run_dir / "run.json").read_text())["datadog_results"]
    assert record["sent"] is False and record["metrics"]["status"] == status
    assert reason in record["metrics"]["error"] and "Datadog POST /api/v2/series" in record["metrics"]["error"]
    log = _log(run_dir)
    warnings = [line for line in log.splitlines() if " WARNING auditor.datadog " in line]
    assert len(warnings) == 1 and reason in warnings[0] and "Datadog: results not sent" in warnings[0]
    assert key not in log and key not in (run_dir / "run.json").read_text()
    assert json.loads((off_dir / "run.json").read_text())["datadog_results"] == {"sent": False, "state": "off"}


def test_no_api_key_with_sending_on_is_a_warning_and_the_run_goes_on(org, intake, tmp_path) -> None:
    code, run_dir = _run(org, "nokey", load_config(_config(tmp_path, intake.url(), send=True)), {})
    assert code == 1 and not intake.series
    assert json.loads((run_dir / "run.json").read_text())["datadog_results"]["state"] == "no_api_key"
    assert "Datadog: results not sent: DD_API_KEY is not set in the environment" in _log(run_dir)


def _log(run_dir: Path) -> str:
    """This run's lines of the log file (the output folder's auditor.log)."""
    return (run_dir.parent / "auditor.log").read_text()


def _args(run_dir: Path, config: Path) -> argparse.Namespace:
    return argparse.Namespace(run=str(run_dir), config=str(config))


def test_send_results_sends_a_run_made_with_sending_off_exactly_as_the_run_would_have(org, intake, tmp_path) -> None:
    config_on, config_off = _config(tmp_path, intake.url(), send=True), _config(tmp_path, intake.url(), send=False)
    _run(org, "live", load_config(config_on), {"DD_API_KEY": API_KEY})
    live = [(s["metric"], sorted(s["tags"]), s["points"][0]["value"]) for s in intake.sent_series()]
    live_event = intake.events[0]
    intake.series.clear()
    intake.events.clear()
    _, later = _run(org, "later", load_config(config_off), {"DD_API_KEY": API_KEY})
    finished = datetime.fromisoformat(json.loads((later / "run.json").read_text())["finished_at"])
    out = io.StringIO()
    code = run_send_results(_args(later, config_off), env={"DD_API_KEY": API_KEY}, now=finished + timedelta(hours=1),
                            out=out)
    assert code == 0 and out.getvalue().startswith("sent: ")
    again = [(s["metric"], sorted(s["tags"]), s["points"][0]["value"]) for s in intake.sent_series()]
    assert again == live  # read back from the folder, the same series as the live run sent
    assert intake.series[0]["series"][0]["points"][0]["timestamp"] == int((finished + timedelta(hours=1)).timestamp())
    assert intake.events[0]["title"] == live_event["title"]
    assert intake.events[0]["alert_type"] == live_event["alert_type"]
    record = json.loads((later / "run.json").read_text())["datadog_results"]
    assert record["sent"] is True and record["by"] == "auditor datadog send-results"


def test_send_results_refuses_a_run_older_than_sync_max_run_age_hours(org, intake, tmp_path, capsys) -> None:
    config = _config(tmp_path, intake.url(), send=False)
    _, run_dir = _run(org, "old", load_config(config), {"DD_API_KEY": API_KEY})
    before = (run_dir / "run.json").read_bytes()
    finished = datetime.fromisoformat(json.loads(before)["finished_at"])
    code = run_send_results(_args(run_dir, config), env={"DD_API_KEY": API_KEY}, now=finished + timedelta(hours=7))
    assert code == 2 and not intake.series and not intake.events
    assert "older than [datadog] sync_max_run_age_hours = 6" in capsys.readouterr().err
    assert (run_dir / "run.json").read_bytes() == before


def test_send_results_reports_a_datadog_outage_with_exit_1(org, intake, tmp_path, capsys) -> None:
    config = _config(tmp_path, intake.url(), send=False)
    _, run_dir = _run(org, "outage", load_config(config), {"DD_API_KEY": API_KEY})
    intake.series_status = intake.events_status = 503
    code = run_send_results(_args(run_dir, config), env={"DD_API_KEY": API_KEY}, now=datetime.now(UTC))
    assert code == 1 and "HTTP 503" in capsys.readouterr().err
    assert json.loads((run_dir / "run.json").read_text())["datadog_results"]["state"] == "failed"


def test_send_results_needs_a_run_folder_and_the_api_key(org, intake, tmp_path, capsys) -> None:
    config = _config(tmp_path, intake.url(), send=False)
    assert run_send_results(_args(tmp_path / "nope", config), env={"DD_API_KEY": API_KEY}) == 2
    assert "run.json: file not found (is --run a run folder?)" in capsys.readouterr().err
    _, run_dir = _run(org, "nokey2", load_config(config), {})
    assert run_send_results(_args(run_dir, config), env={}, now=datetime.now(UTC)) == 2
    assert "DD_API_KEY must be set" in capsys.readouterr().err
