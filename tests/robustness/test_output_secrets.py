"""No credential, API key or unmasked external id reaches a report, the log or the console;
every file the run writes is private to its owner."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from auditor.commands.run import execute
from auditor.config import load_config
from auditor.demo.moto_trust import enforce_role_trust
from auditor.demo.organization import build_demo_org
from tests.doubles.datadog_double import FakeDatadogIntake, threaded_server

AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzAUDITORSECRET"
AUDIT_EXTERNAL_ID = "audit-ext-5b1c9e2f7d40a8"
DD_KEYS = {"DD_API_KEY": "ddapikey-0f1e2d3c4b5a69788796a5b4", "DD_APP_KEY": "ddappkey-a1b2c3d4e5f60718293a4b5c6d7e8f90"}


@pytest.fixture(scope="module")
def intake() -> Iterator[FakeDatadogIntake]:
    """The Datadog double the run sends its results to (accepting the run's API key)."""
    with threaded_server() as server:
        fake = FakeDatadogIntake(server, api_key=DD_KEYS["DD_API_KEY"])
        fake.install()
        yield fake


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory, intake: FakeDatadogIntake) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("secrets")
    out, inputs = base / "reports", base / "inputs"
    inputs.mkdir()
    with mock_aws(), enforce_role_trust():
        session = boto3.Session(aws_access_key_id="AKIADEMOAUDITOR", aws_secret_access_key=AWS_SECRET,
                                region_name="us-east-1")
        org = build_demo_org(session, 20)
        issued: list[str] = []  # every secret key and session token AssumeRole handed out

        def keep(parsed: dict[str, Any], **_: Any) -> None:
            if "Credentials" in parsed:
                issued.extend([parsed["Credentials"]["SecretAccessKey"], parsed["Credentials"]["SessionToken"]])

        session.events.register("after-call.sts.AssumeRole", keep)
        expected_csv = inputs / "datadog.csv"
        with expected_csv.open("w", newline="") as fh:
            csv.writer(fh).writerows([("account_id", "role_name", "external_id"), *org.expected_csv_rows])
        config = inputs / "auditor.toml"
        config.write_text(
            f'[organization]\naudit_role_name = "OrganizationAccountAccessRole"\n'
            f'audit_role_external_id = "{AUDIT_EXTERNAL_ID}"\n'
            f'[datadog]\nexpected_values = "csv"\nexpected_values_csv = "{expected_csv}"\n'
            f'send_results = true\napi_url = "{intake.url()}"\n'
            '[regions]\naudited = ["us-east-1", "eu-west-1", "eu-central-1"]\n'
            '[logging]\nlevel = "DEBUG"\n'
        )
        config.chmod(0o600)
        console = io.StringIO()
        with contextlib.redirect_stderr(console):  # the console log handler writes to sys.stderr
            code, run_dir = execute(load_config(config), out, session=session, env=DD_KEYS)
    assert run_dir is not None and issued
    external_ids = {row[2] for row in org.expected_csv_rows if row[2]}
    return {"out": out, "run_dir": run_dir, "code": code, "issued": issued, "external_ids": external_ids,
            "console": console.getvalue()}


def _texts(out: Path) -> dict[str, str]:
    """Every file under the output folder as text; the workbook's XML parts one by one."""
    texts = {}
    for path in out.rglob("*"):
        if path.is_file():
            if path.suffix == ".xlsx":
                with zipfile.ZipFile(path) as z:
                    texts.update({f"{path}!{n}": z.read(n).decode("utf-8", "replace") for n in z.namelist()})
            else:
                texts[str(path)] = path.read_bytes().decode("utf-8", "replace")
    return texts


def test_no_secret_in_any_output_file_or_the_log(demo_run: dict[str, Any]) -> None:
    texts = _texts(demo_run["out"])
    assert any(name.endswith("auditor.log") for name in texts) and any("audit.xlsx!" in n for n in texts)
    secrets = {AWS_SECRET, AUDIT_EXTERNAL_ID, *DD_KEYS.values(), *demo_run["issued"], *demo_run["external_ids"]}
    leaks = {(Path(name.split("!")[0]).name, s[:12]) for name, text in texts.items() for s in secrets if s in text}
    assert leaks == set()


def test_masked_external_ids_are_still_there_to_tell_accounts_apart(demo_run: dict[str, Any]) -> None:
    text = (demo_run["run_dir"] / "inventory.json").read_text()
    assert sum(f"****{e[-4:]}" in text for e in demo_run["external_ids"]) >= len(demo_run["external_ids"]) // 2


def test_no_secret_on_the_console(demo_run: dict[str, Any]) -> None:
    console = demo_run["console"]
    assert "WARNING" in console and "results:" in console  # it did print the run's progress
    secrets = {AWS_SECRET, AUDIT_EXTERNAL_ID, *DD_KEYS.values(), *demo_run["issued"], *demo_run["external_ids"]}
    assert [s[:12] for s in secrets if s in console] == []


def test_every_file_and_folder_the_run_writes_is_private(demo_run: dict[str, Any]) -> None:
    out = demo_run["out"]
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    for path in out.rglob("*"):
        if path.is_symlink():
            continue
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), f"{path}: {mode:o}"


def test_results_reach_datadog_with_the_key_only_in_its_header_and_no_secret_in_what_is_sent(
    demo_run: dict[str, Any], intake: FakeDatadogIntake
) -> None:
    assert json.loads((demo_run["run_dir"] / "run.json").read_text())["datadog_results"]["sent"] is True
    assert intake.api_keys == [DD_KEYS["DD_API_KEY"]] * 2  # series and event: the key went where it belongs
    sent = json.dumps([intake.series, intake.events])
    secrets = {AWS_SECRET, AUDIT_EXTERNAL_ID, *DD_KEYS.values(), *demo_run["issued"], *demo_run["external_ids"]}
    assert [s[:12] for s in secrets if s in sent] == []
