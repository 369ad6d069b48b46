"""Datadog's standard permission list: read once, validated, and a failure is one warning and the probes."""

from __future__ import annotations

import logging

import pytest

from auditor.datadog.api import fetch_required_permissions
from auditor.demo.organization import DATADOG_STANDARD_PERMISSIONS

PROBES = ("cloudwatch:GetMetricData", "ec2:DescribeInstances")
FAST = {"backoff_seconds": 0.0}


def test_the_list_is_read_in_one_call(fake_dd, dd_cfg, dd_env):
    got = fetch_required_permissions(dd_cfg, dd_env, PROBES)
    assert got.from_datadog and got.actions == DATADOG_STANDARD_PERMISSIONS
    assert fake_dd.permission_requests == 1


@pytest.mark.parametrize("status, attempts", [(500, 2), (403, 1), (404, 1)])
def test_a_failing_endpoint_gives_the_probe_actions_and_one_warning(fake_dd, dd_cfg, dd_env, caplog, status,
                                                                    attempts):
    fake_dd.permissions_status = status
    caplog.set_level(logging.INFO, logger="auditor")
    got = fetch_required_permissions(dd_cfg, dd_env, PROBES, **FAST)
    assert got.source == "probe_actions" and got.actions == PROBES
    assert f"HTTP {status}" in got.reason and "/api/v2/integration/aws/iam_permissions/standard" in got.reason
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "Datadog API GET" in warnings[0] and "probe_actions" in warnings[0]
    assert fake_dd.permission_requests == attempts


@pytest.mark.parametrize("permissions, why", [
    ([], "no permission list"),
    (["ec2:Describe*", "not an action"], "not 'service:action'"),
    (["ec2:Describe*", 7], "unexpected response"),
    (["a:B"] * 5001, "more than 5000"),
])
def test_a_list_that_is_not_a_permission_list_is_not_used(fake_dd, dd_cfg, dd_env, permissions, why):
    fake_dd.permissions = permissions
    got = fetch_required_permissions(dd_cfg, dd_env, PROBES)
    assert got.source == "probe_actions" and why in got.reason
