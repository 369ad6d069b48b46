"""The Datadog client the auditor runs on: every call it makes is stable there, and a client that
cannot make one gives one message naming the version to install (never "unexpected response")."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from datadog_api_client import Configuration
from datadog_api_client.v1.api.events_api import EventsApi
from datadog_api_client.v2.api.aws_integration_api import AWSIntegrationApi
from datadog_api_client.v2.api.metrics_api import MetricsApi

from auditor.datadog import client_support
from auditor.datadog.api import DatadogApi, DatadogApiError
from auditor.datadog.client_support import MIN_VERSION, OPERATIONS, installed_version, version_tuple
from auditor.datadog.intake import ResultEvent, ResultPayload, ResultsSender
from tests.doubles.datadog_double import API_KEY, APP_KEY, FakeDatadog

ROOT = Path(__file__).resolve().parents[2]
API_CLASSES = {"v2": (AWSIntegrationApi, MetricsApi), "v1": (EventsApi,)}


def _public_methods(cls: type) -> set[str]:
    return {name for name in vars(cls) if not name.startswith("_") and callable(vars(cls)[name])}


def test_every_operation_the_tool_calls_is_stable_in_the_installed_client() -> None:
    unstable = Configuration().unstable_operations
    for key in OPERATIONS:
        version, operation = key.split(".")
        assert any(hasattr(cls, operation) for cls in API_CLASSES[version]), f"{key}: not in this client"
        # Absent from unstable_operations means stable; present, it must be enabled (True), never False.
        assert unstable.values.get(key, True) is True, f"{key} is disabled as unstable in this client"


def test_the_operations_list_names_every_client_call_the_code_makes() -> None:
    known = {name for classes in API_CLASSES.values() for cls in classes for name in _public_methods(cls)}
    listed = {key.split(".")[1] for key in OPERATIONS}
    called: dict[str, str] = {}
    for path in (ROOT / "auditor").rglob("*.py"):
        for name in re.findall(r"\.([a-z_]+)\(", path.read_text(encoding="utf-8")):
            if name in known:
                called.setdefault(name, str(path.relative_to(ROOT)))
    assert {"list_aws_accounts", "update_aws_account", "submit_metrics", "create_event"} <= set(called)
    assert set(called) <= listed, {n: p for n, p in called.items() if n not in listed}


def test_pyproject_floor_is_the_version_the_messages_name_and_is_installed() -> None:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    [floor] = [m.group(1) for d in deps if (m := re.fullmatch(r"datadog-api-client>=([\d.]+)", d))]
    assert version_tuple(floor) == version_tuple(MIN_VERSION)
    assert version_tuple(installed_version()) >= version_tuple(MIN_VERSION)


@pytest.mark.parametrize("version, too_old", [
    ("2.42.0", True), ("2.45.9", True), ("2.46.0", False), ("2.46.0rc1", False), ("3.0", False), ("", False),
])
def test_client_too_old_compares_versions(version: str, too_old: bool) -> None:
    assert client_support.client_too_old(version) is too_old


def test_an_operation_the_client_disables_as_unstable_gives_the_version_to_install(fake_dd: FakeDatadog) -> None:
    with DatadogApi(fake_dd.url(), API_KEY, APP_KEY, sleep=lambda _s: None) as api:
        # What a client from 2.31 to 2.42 ships: the v2 AWS operations present but disabled.
        api._client.configuration.unstable_operations.values["v2.list_aws_accounts"] = False
        with pytest.raises(DatadogApiError) as err:
            api.list_accounts()
    message = str(err.value)
    assert f"needs datadog-api-client>={MIN_VERSION}" in message and "GET /api/v2/integration/aws/accounts" in message
    assert "unexpected response" not in message
    assert fake_dd.server.log == []  # refused by the client, nothing sent


def test_a_client_older_than_the_floor_is_refused_before_any_call(fake_dd, monkeypatch, capsys) -> None:
    monkeypatch.setattr(client_support, "installed_version", lambda: "2.42.0")
    with pytest.raises(DatadogApiError) as err:
        DatadogApi(fake_dd.url(), API_KEY, APP_KEY)
    assert str(err.value) == (
        f"Datadog API at {fake_dd.url()}: datadog-api-client 2.42.0 cannot make this call; the auditor needs "
        f"datadog-api-client>={MIN_VERSION} (pip install 'datadog-api-client>={MIN_VERSION}')"
    )
    event = ResultEvent("t", "x", "success", (), "k")
    with ResultsSender(fake_dd.url(), API_KEY) as sender:
        outcome = sender.send(ResultPayload(series=(), event=event), 0)
    assert not outcome.sent
    assert all(f"needs datadog-api-client>={MIN_VERSION}" in e for e in outcome.errors())
    assert fake_dd.server.log == []
