"""The expected-values source returns data or an error value; it never builds a finding itself."""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer

import auditor.datadog.source as source
from auditor.config import Config, config_from_dict
from auditor.datadog.source import load_expected_values
from tests.doubles.datadog_double import PATH, dd_account

PROD = "111111111111"


def _cfg(url: str) -> Config:
    return config_from_dict({"datadog": {"expected_values": "datadog_api", "api_url": url}})


def test_an_api_that_answers_gives_the_accounts_and_no_error(fake_dd, dd_cfg, dd_env) -> None:
    fake_dd.accounts = [dd_account("cfg-prod", PROD, "R", "x")]
    got = load_expected_values(_cfg(dd_cfg.api_url), dd_env)
    assert got.name == "datadog_api" and list(got.values) == [PROD] and got.error == ""
    assert got.permissions is not None and got.permissions.from_datadog


def test_a_failing_api_is_an_error_value_and_the_probe_actions(httpserver: HTTPServer, dd_cfg, dd_env) -> None:
    httpserver.expect_request(PATH, method="GET").respond_with_json({"errors": ["Forbidden"]}, status=403)
    got = load_expected_values(_cfg(dd_cfg.api_url), dd_env)
    assert got.name == "datadog_api" and got.values == {}
    assert got.error.startswith(f"Datadog API GET {PATH} at {dd_cfg.api_url} failed with HTTP 403")
    assert got.permissions is not None and got.permissions.source == "probe_actions"
    assert "datadog_api_error" in got.permissions.reason
    assert not hasattr(got, "findings")


def test_an_unexpected_failure_is_named_by_its_type(monkeypatch: pytest.MonkeyPatch, dd_cfg, dd_env) -> None:
    def broken(*_args: object, **_kw: object) -> None:
        raise TypeError("answer broke the schema")

    monkeypatch.setattr(source, "fetch_expected_values", broken)
    assert load_expected_values(_cfg(dd_cfg.api_url), dd_env).error == "TypeError: answer broke the schema"
