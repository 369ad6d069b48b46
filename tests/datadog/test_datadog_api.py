"""The Datadog API source: what Datadog holds per account, and how failures surface."""

from __future__ import annotations

import logging
import time

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from auditor.config import DatadogConfig
from auditor.datadog.api import (
    DatadogApi,
    DatadogApiError,
    base_url,
    by_account,
    fetch_expected_values,
)
from auditor.datadog.source import uses_datadog_api
from auditor.model import ExpectedValues
from tests.doubles.datadog_double import API_KEY, APP_KEY, PATH, dd_access_key_account, dd_account

PROD, DEV, GONE = "111111111111", "222222222222", "999999999999"


def _sleeps() -> tuple[list[float], dict[str, object]]:
    slept: list[float] = []
    return slept, {"sleep": slept.append}


def test_accounts_become_expected_values_with_raw_role_name_and_external_id(fake_dd, dd_cfg, dd_env):
    fake_dd.accounts = [
        dd_account("cfg-prod", PROD, "DatadogIntegrationRole ", "rotated-ext-id",
                   regions={"include_only": ["us-east-1", "eu-west-1"]}),
        dd_account("cfg-dev", DEV, "DatadogIntegrationRole", "ext-dev", partition="aws-us-gov"),
    ]
    got = fetch_expected_values(dd_cfg, dd_env)
    assert got[PROD] == ExpectedValues(
        account_id=PROD, role_name="DatadogIntegrationRole ", external_id="rotated-ext-id", partition="aws",
        regions_include_all=False, regions_include_only=("us-east-1", "eu-west-1"), source="datadog_api",
        datadog_config_id="cfg-prod",
    )
    assert got[DEV].regions_include_all is True and got[DEV].regions_include_only == ()
    assert got[DEV].partition == "aws-us-gov"


def test_every_page_is_followed(fake_dd, dd_cfg, dd_env):
    fake_dd.accounts = [dd_account(f"cfg-{i}", f"{i:012d}", "R", f"x{i}") for i in range(1, 8)]
    fake_dd.page_size = 3
    got = fetch_expected_values(dd_cfg, dd_env)
    assert sorted(got) == [f"{i:012d}" for i in range(1, 8)]
    assert len([r for r, _ in fake_dd.server.log if r.method == "GET"]) == 3


def test_next_page_on_another_host_is_not_followed(httpserver: HTTPServer, dd_cfg, dd_env):
    httpserver.expect_oneshot_request(PATH, method="GET").respond_with_json(
        {"data": [], "links": {"next": "https://evil.example.com/steal"}}
    )
    with pytest.raises(DatadogApiError, match="another host"):
        fetch_expected_values(dd_cfg, dd_env)


def test_access_key_accounts_have_no_role_name(fake_dd, dd_cfg, dd_env):
    item = dd_account("cfg-k", PROD, "x", "y")
    item["attributes"]["auth_config"] = {"access_key_id": "AKIAEXAMPLE"}
    fake_dd.accounts = [item]
    ev = fetch_expected_values(dd_cfg, dd_env)[PROD]
    assert ev.role_name is None and ev.external_id is None
    assert ev.uses_access_keys and ev.access_key_id == "AKIAEXAMPLE"


def test_a_secret_key_served_with_the_access_key_is_never_kept(fake_dd, dd_cfg, dd_env):
    fake_dd.accounts = [dd_access_key_account("cfg-k", PROD, "AKIAEXAMPLE", "s3cr3t-never-kept")]
    ev = fetch_expected_values(dd_cfg, dd_env)[PROD]
    assert "s3cr3t-never-kept" not in repr(ev) and ev.uses_access_keys


def test_rate_limit_is_retried_after_the_reset_header(httpserver: HTTPServer, fake_dd, dd_cfg, dd_env):
    fake_dd.accounts = [dd_account("cfg-prod", PROD, "R", "x")]
    httpserver.expect_oneshot_request(PATH, method="GET").respond_with_response(
        Response('{"errors": ["Too many requests"]}', status=429, headers={"X-RateLimit-Reset": "7"})
    )
    slept, kw = _sleeps()
    assert list(fetch_expected_values(dd_cfg, dd_env, **kw)) == [PROD]
    assert slept == [7.0]


def test_rate_limit_wait_is_capped(httpserver: HTTPServer, fake_dd, dd_cfg, dd_env):
    httpserver.expect_oneshot_request(PATH, method="GET").respond_with_response(
        Response("{}", status=429, headers={"Retry-After": "86400"})
    )
    slept, kw = _sleeps()
    fetch_expected_values(dd_cfg, dd_env, max_wait_seconds=30.0, **kw)
    assert slept == [30.0]


def test_server_errors_are_retried_a_bounded_number_of_times(httpserver: HTTPServer, dd_cfg, dd_env):
    httpserver.expect_request(PATH, method="GET").respond_with_json({"errors": ["Internal"]}, status=503)
    slept, kw = _sleeps()
    with pytest.raises(DatadogApiError) as err:
        fetch_expected_values(dd_cfg, dd_env, max_attempts=4, **kw)
    assert err.value.status == 503 and "after 4 attempts" in str(err.value)
    assert slept == [1.0, 2.0, 4.0]
    assert len(httpserver.log) == 4


@pytest.mark.parametrize("status, hint", [(401, "not valid"), (403, "lacks permission")])
def test_auth_errors_are_reported_once_naming_the_endpoint(httpserver: HTTPServer, dd_cfg, dd_env,
                                                           status, hint):
    httpserver.expect_request(PATH, method="GET").respond_with_json({"errors": ["Forbidden"]}, status=status)
    slept, kw = _sleeps()
    with pytest.raises(DatadogApiError) as err:
        fetch_expected_values(dd_cfg, dd_env, **kw)
    msg = str(err.value)
    assert err.value.status == status and f"GET {PATH}" in msg and hint in msg and f"HTTP {status}" in msg
    assert len(httpserver.log) == 1 and slept == []
    assert API_KEY not in msg and APP_KEY not in msg


def test_wrong_keys_get_403_from_the_double(fake_dd, dd_cfg):
    with pytest.raises(DatadogApiError) as err:
        fetch_expected_values(dd_cfg, {"DD_API_KEY": "wrong", "DD_APP_KEY": "keys"})
    assert err.value.status == 403


def test_a_slow_server_times_out_and_is_retried(httpserver: HTTPServer, fake_dd, dd_cfg, dd_env):
    def slow(_request):
        time.sleep(0.5)
        return Response('{"data": []}', content_type="application/json")

    fake_dd.accounts = [dd_account("cfg-prod", PROD, "R", "x")]
    httpserver.expect_oneshot_request(PATH, method="GET").respond_with_handler(slow)
    slept: list[float] = []

    def sleep(seconds: float) -> None:  # the local server answers one request at a time
        slept.append(seconds)
        time.sleep(0.5)

    assert list(fetch_expected_values(dd_cfg, dd_env, timeout=(2.0, 0.2), sleep=sleep)) == [PROD]
    assert slept == [1.0]


def test_unreachable_api_is_a_clear_error(dd_env):
    cfg = DatadogConfig(api_url="http://127.0.0.1:9", expected_values="datadog_api")
    _slept, kw = _sleeps()
    with pytest.raises(DatadogApiError, match=r"no answer after 2 attempts"):
        fetch_expected_values(cfg, dd_env, max_attempts=2, **kw)


def test_api_failure_becomes_the_run_level_finding(httpserver: HTTPServer, dd_cfg, dd_env):
    from auditor.checks.datadog_side import datadog_api_error_finding
    from auditor.datadog.api import failure_text

    httpserver.expect_request(PATH, method="GET").respond_with_json({"errors": ["Forbidden"]}, status=403)
    with pytest.raises(DatadogApiError) as err:
        fetch_expected_values(dd_cfg, dd_env)
    assert failure_text(TimeoutError("read timed out")) == "TimeoutError: read timed out"
    f = datadog_api_error_finding(failure_text(err.value))
    assert f.check == "datadog_api_error" and f.detail == str(err.value) and "HTTP 403" in f.detail


def test_missing_keys_are_a_clear_error():
    with pytest.raises(DatadogApiError, match="DD_API_KEY and DD_APP_KEY"):
        fetch_expected_values(DatadogConfig(), {"DD_API_KEY": "only-one"})


def test_patch_sends_the_update_body_the_api_requires(fake_dd, dd_cfg, dd_env):
    fake_dd.accounts = [dd_account("cfg-prod", PROD, "R", "x")]
    with DatadogApi.from_config(dd_cfg, dd_env) as api:
        api.update_regions("cfg-prod", PROD, ["eu-west-1", "us-east-1"])
    assert fake_dd.patches == [(
        "cfg-prod",
        {"data": {"type": "account", "attributes": {
            "aws_account_id": PROD, "aws_regions": {"include_only": ["eu-west-1", "us-east-1"]}}}},
    )]


def test_keys_never_reach_the_logs(fake_dd, dd_cfg, dd_env, caplog, httpserver: HTTPServer):
    caplog.set_level(logging.DEBUG)
    fake_dd.accounts = [dd_account("cfg-prod", PROD, "R", "secret-external-id")]
    httpserver.expect_oneshot_request(PATH, method="GET").respond_with_json({}, status=500)
    api_kw = {"sleep": lambda _s: None}
    fetch_expected_values(dd_cfg, dd_env, **api_kw)
    with DatadogApi.from_config(dd_cfg, dd_env) as api:
        assert API_KEY not in repr(api)
    text = caplog.text
    assert "retrying" in text
    for secret in (API_KEY, APP_KEY, "secret-external-id"):
        assert secret not in text


@pytest.mark.parametrize("mode, env, expected", [
    ("datadog_api", {}, True),
    ("auto", {"DD_API_KEY": "a", "DD_APP_KEY": "b"}, True),
    ("auto", {"DD_API_KEY": "a"}, False),
    ("csv", {"DD_API_KEY": "a", "DD_APP_KEY": "b"}, False),
    ("none", {"DD_API_KEY": "a", "DD_APP_KEY": "b"}, False),
])
def test_api_source_is_used_for_datadog_api_or_auto_with_both_keys(mode, env, expected):
    cfg = DatadogConfig(expected_values=mode, expected_values_csv="x.csv")
    assert uses_datadog_api(cfg, env) is expected


def test_base_url_comes_from_api_url_then_site_then_dd_site():
    assert base_url(DatadogConfig(api_url="http://localhost:1234/"), {"DD_SITE": "datadoghq.eu"}) == \
        "http://localhost:1234"
    assert base_url(DatadogConfig(site="ap1.datadoghq.com"), {"DD_SITE": "datadoghq.eu"}) == \
        "https://api.ap1.datadoghq.com"
    assert base_url(DatadogConfig(), {"DD_SITE": "datadoghq.eu"}) == "https://api.datadoghq.eu"
    assert base_url(DatadogConfig(), {}) == "https://api.datadoghq.com"


def _with(attributes: dict[str, object]) -> dict[str, object]:
    item = dd_account("cfg-odd", PROD, "DatadogIntegrationRole", "ext")
    item["attributes"] = {**item["attributes"], **attributes}  # type: ignore[dict-item]
    return item


@pytest.mark.parametrize(("attributes", "field"), [
    ({"aws_regions": {"include_only": ["us-east-1", 7, None, {"a": 1}]}}, "include_only"),
    ({"aws_regions": {"include_only": "us-east-1"}}, "include_only"),
    ({"aws_regions": {"include_all": "false"}}, "include_all"),
    ({"aws_regions": ["us-east-1"]}, "aws_regions"),
    ({"auth_config": {"role_name": ["DatadogIntegrationRole"], "external_id": "ext"}}, "role_name"),
    ({"auth_config": {"role_name": "DatadogIntegrationRole", "external_id": 5}}, "external_id"),
    ({"auth_config": {"access_key_id": {"id": "AKIA"}}}, "access_key_id"),
    ({"auth_config": ["role"]}, "auth_config"),
    ({"aws_partition": ["aws"]}, "aws_partition"),
    ({"aws_account_id": {"id": PROD}}, "aws_account_id"),
])
def test_an_account_config_with_a_field_of_the_wrong_type_is_one_clear_error_naming_it(
    fake_dd, dd_cfg, dd_env, attributes, field
):
    fake_dd.accounts = [_with(attributes), dd_account("cfg-dev", DEV, "DatadogIntegrationRole", "ext-dev")]
    with pytest.raises(DatadogApiError, match=f"account config 'cfg-odd'.*{field}"):
        fetch_expected_values(dd_cfg, dd_env)


@pytest.mark.parametrize("data", [["not an object"], [1], [None]], ids=["string", "number", "null"])
def test_a_list_answer_whose_items_are_not_objects_is_a_datadog_api_error(httpserver: HTTPServer, dd_cfg, dd_env,
                                                                            data):
    httpserver.expect_request(PATH, method="GET").respond_with_json({"data": data})
    with pytest.raises(DatadogApiError, match="unexpected response"):
        fetch_expected_values(dd_cfg, dd_env)


def test_one_aws_account_in_several_configs_keeps_the_first_and_names_the_others_once(caplog):
    """Datadog can hold one AWS account in several account configs: the first (Datadog's order) is the
    one the run judges, the others' ids travel with it so every consumer can refuse or report it."""
    values = [ExpectedValues(DEV, datadog_config_id="cfg-a"), ExpectedValues(PROD, datadog_config_id="cfg-p"),
              ExpectedValues(DEV, datadog_config_id="cfg-b"), ExpectedValues(DEV, datadog_config_id="cfg-c")]
    with caplog.at_level(logging.WARNING, logger="auditor.datadog"):
        got = by_account(values)
    assert list(got) == [DEV, PROD]
    assert got[DEV].datadog_config_id == "cfg-a" and got[DEV].other_config_ids == ("cfg-b", "cfg-c")
    assert got[PROD] == values[1]  # a lone config is kept as it is
    [warning] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert DEV in warning and "cfg-a, cfg-b, cfg-c" in warning


def test_fetch_marks_an_account_held_in_two_configs(fake_dd, dd_cfg, dd_env):
    fake_dd.accounts = [dd_account("cfg-dev", DEV, "R", "e1"), dd_account("cfg-prod", PROD, "R", "e2"),
                        dd_account("cfg-dev-2", DEV, "R", "e3")]
    got = fetch_expected_values(dd_cfg, dd_env)
    assert (got[DEV].datadog_config_id, got[DEV].other_config_ids) == ("cfg-dev", ("cfg-dev-2",))
    assert got[DEV].external_id == "e1" and got[PROD].other_config_ids == ()
