"""The one Datadog retry policy (the client's ClientRetry, subclassed to keep a cap), as urllib3 drives it."""

from __future__ import annotations

import logging

import pytest
from pytest_httpserver import HTTPServer
from urllib3 import HTTPResponse
from werkzeug import Response

from auditor.datadog.api import DatadogApi, DatadogApiError, fetch_expected_values
from auditor.datadog.retry import DatadogRetry
from tests.doubles.datadog_double import PATH, dd_account

PROD = "111111111111"


def _answer(headers: dict[str, str]) -> HTTPResponse:
    return HTTPResponse(body=b"", headers=headers, status=429, preload_content=True)


@pytest.mark.parametrize("headers, wait", [
    ({"X-RateLimit-Reset": "7", "Retry-After": "3"}, 7.0),  # Datadog's own header first
    ({"Retry-After": "3"}, 3.0),
    ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),  # a date in the past: no wait
    ({"x-ratelimit-reset": "1e9"}, 60.0),  # capped
    ({"X-RateLimit-Reset": "-5"}, 0.0),
    ({"X-RateLimit-Reset": "soon"}, None),  # unusable: the backoff decides
])
def test_rate_limit_headers_give_the_wait_capped(headers, wait):
    assert DatadogRetry(max_wait_seconds=60.0).get_retry_after(_answer(headers)) == wait


def test_backoff_doubles_from_the_first_retry_and_is_capped():
    waits: list[float] = []
    retry = DatadogRetry.with_attempts(6, backoff_factor=1.0, max_wait_seconds=5.0, pause=waits.append)
    for _ in range(5):
        retry = retry.increment("GET", PATH, error=TimeoutError())
        retry.sleep()
    assert waits == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert retry.attempts == 6 and retry.pause == waits.append  # carried through every copy


@pytest.mark.parametrize("method", ["GET", "PATCH", "POST"])
def test_every_method_the_auditor_calls_is_retried_on_a_transient_status_only(method):
    retry = DatadogRetry()
    assert retry.is_retry(method, 503) and retry.is_retry(method, 429)
    assert not retry.is_retry(method, 501) and not retry.is_retry(method, 403)
    assert retry._is_method_retryable(method)  # so a read timeout is retried too


def test_one_warning_per_retry_names_the_endpoint_and_the_status(httpserver: HTTPServer, fake_dd, dd_cfg, dd_env,
                                                                  caplog):
    fake_dd.accounts = [dd_account("cfg-prod", PROD, "R", "x")]
    for _ in range(2):
        httpserver.expect_oneshot_request(PATH, method="GET").respond_with_json({}, status=503)
    caplog.set_level(logging.DEBUG)
    assert list(fetch_expected_values(dd_cfg, dd_env, sleep=lambda _s: None)) == [PROD]
    retries = [r for r in caplog.records if "retrying" in r.getMessage() or "Retrying" in r.getMessage()]
    assert [(r.name, r.levelno, r.getMessage()) for r in retries] == [
        ("auditor.datadog", logging.WARNING, f"Datadog API GET {PATH}: HTTP 503, retrying in 1.0s (attempt 1/5)"),
        ("auditor.datadog", logging.WARNING, f"Datadog API GET {PATH}: HTTP 503, retrying in 2.0s (attempt 2/5)"),
    ]


def test_a_status_no_retry_fixes_is_reported_after_one_attempt(httpserver: HTTPServer, dd_cfg, dd_env):
    httpserver.expect_request(PATH, method="GET").respond_with_json({"errors": ["no"]}, status=501)
    slept: list[float] = []
    with pytest.raises(DatadogApiError) as err:
        fetch_expected_values(dd_cfg, dd_env, sleep=slept.append)
    assert "failed with HTTP 501: server error" in str(err.value) and "attempts" not in str(err.value)
    assert len(httpserver.log) == 1 and slept == []


def test_a_region_update_is_retried_with_the_same_body(httpserver: HTTPServer, fake_dd, dd_cfg, dd_env):
    fake_dd.accounts = [dd_account("cfg-prod", PROD, "R", "x")]
    httpserver.expect_oneshot_request(f"{PATH}/cfg-prod", method="PATCH").respond_with_response(
        Response("{}", status=429, headers={"X-RateLimit-Reset": "2"}))
    slept: list[float] = []
    with DatadogApi.from_config(dd_cfg, dd_env, sleep=slept.append) as api:
        api.update_regions("cfg-prod", PROD, ["us-east-1"])
    bodies = [r.get_data() for r, _ in httpserver.log if r.method == "PATCH"]
    assert slept == [2.0] and len(bodies) == 2 and bodies[0] == bodies[1]
    assert [c for c, _ in fake_dd.patches] == ["cfg-prod"]
