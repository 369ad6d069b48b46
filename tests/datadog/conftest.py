"""Fixtures for the Datadog-side tests: keys in the environment and the local API double."""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer

from auditor.config import DatadogConfig
from tests.doubles.datadog_double import API_KEY, APP_KEY, FakeDatadog


@pytest.fixture
def dd_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("DD_API_KEY", API_KEY)
    monkeypatch.setenv("DD_APP_KEY", APP_KEY)
    monkeypatch.delenv("DD_SITE", raising=False)
    return {"DD_API_KEY": API_KEY, "DD_APP_KEY": APP_KEY}


@pytest.fixture
def fake_dd(httpserver: HTTPServer) -> FakeDatadog:
    fake = FakeDatadog(httpserver)
    fake.install()
    return fake


@pytest.fixture
def dd_cfg(httpserver: HTTPServer) -> DatadogConfig:
    """Config pointing at the local server (with the double only when a test asks for `fake_dd`)."""
    return DatadogConfig(api_url=httpserver.url_for("").rstrip("/"), expected_values="datadog_api")
