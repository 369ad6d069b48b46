"""Role name checks: missing role, near misses, and names that differ invisibly."""

from __future__ import annotations

import json

import pytest

from auditor.checks.role_name import describe_name_difference
from auditor.model import Status

from .builders import (
    ROLE_NAME,
    US,
    candidate,
    datadog_statement,
    expected,
    failing,
    ids,
    one,
    role,
    run,
    snapshot,
    trust,
)


@pytest.mark.parametrize(
    ("given", "name", "path", "words"),
    [
        ("DatadogIntegrationRole ", ROLE_NAME, "/", ["trailing U+0020 SPACE", '"DatadogIntegrationRole␠"']),
        (" DatadogIntegrationRole", ROLE_NAME, "/", ["leading U+0020 SPACE", '"␠DatadogIntegrationRole"']),
        ("Datadog\u200bIntegrationRole", ROLE_NAME, "/", ["U+200B ZERO WIDTH SPACE at position 8", "⟨U+200B⟩"]),
        ("DatadogIntegrationRole\u00a0", ROLE_NAME, "/", ["trailing U+00A0 NO-BREAK SPACE"]),
        ("\ufeffDatadogIntegrationRole", ROLE_NAME, "/", ["leading U+FEFF ZERO WIDTH NO-BREAK SPACE"]),
        ("datadogintegrationrole", ROLE_NAME, "/", ["letter case differs"]),
        ("datadog/DatadogIntegrationRole", ROLE_NAME, "/", ['given the path "datadog/"', "role's path is '/'"]),
        (ROLE_NAME, ROLE_NAME, "/datadog/", ["has path '/datadog/'", 'give Datadog "datadog/DatadogIntegrationRole"']),
        ("/datadog/DatadogIntegrationRole", ROLE_NAME, "/datadog/", ["starts with a slash"]),
        ("DatadogAWSIntegrationRole", ROLE_NAME, "/", ["different name"]),
    ],
)
def test_name_differences_are_shown_visibly(given, name, path, words):
    text = describe_name_difference(given, name, path)
    assert text is not None
    for w in words:
        assert w in text


@pytest.mark.parametrize(("given", "path"), [(ROLE_NAME, "/"), ("datadog/DatadogIntegrationRole", "/datadog/")])
def test_exact_name_with_or_without_path_matches(given, path):
    assert describe_name_difference(given, ROLE_NAME, path) is None


def test_name_given_to_datadog_with_trailing_space_is_a_mismatch():
    findings = run(expected_values=expected(role_name=ROLE_NAME + " "))
    f = one(findings, "role_name_mismatch")
    assert f.status is Status.FAIL
    assert '"DatadogIntegrationRole␠"' in f.detail and "Datadog's settings" in f.detail
    assert json.loads(f.evidence)["given"] == ROLE_NAME + " "
    assert failing(findings) == {"role_name_mismatch"}


def test_without_expected_values_the_configured_name_is_compared():
    findings = run(snapshot(role(name="datadogintegrationrole")), expected_values=None)
    assert "[datadog] role_name" in one(findings, "role_name_mismatch").detail


def test_role_with_path_given_with_path_passes():
    snap = snapshot(role(path="/datadog/"))
    assert failing(run(snap, expected_values=expected(role_name="datadog/DatadogIntegrationRole"))) == set()
    assert failing(run(snap)) == {"role_name_mismatch"}


def test_missing_role_without_near_misses_is_only_role_missing():
    findings = run(snapshot(missing=True, other_roles=[candidate("OrganizationAccountAccessRole")]))
    assert [f.check for f in findings] == ["role_missing"]
    assert '"DatadogIntegrationRole"' in findings[0].detail


def test_missing_role_names_the_near_misses_and_why():
    others = [
        candidate("datadogintegrationrole"),
        candidate("DatadogAWSIntegrationRole"),
        candidate("MonitoringRole", trust(datadog_statement(account=US))),
        candidate("Unrelated"),
    ]
    findings = run(snapshot(missing=True, other_roles=others))
    assert ids(findings) == {"role_missing", "role_name_mismatch"}
    f = one(findings, "role_name_mismatch")
    assert "datadogintegrationrole" in f.detail and "letter case" in f.detail
    assert "DatadogAWSIntegrationRole" in f.detail and "old default" in f.detail
    assert "MonitoringRole" in f.detail and "trusts Datadog account 464622532012" in f.detail
    assert "Unrelated" not in f.detail
    assert [c["name"] for c in json.loads(f.evidence)["candidates"]] == [
        "datadogintegrationrole",
        "DatadogAWSIntegrationRole",
        "MonitoringRole",
    ]


def test_missing_role_also_looks_for_the_name_datadog_holds():
    findings = run(
        snapshot(missing=True, other_roles=[candidate("CustomDatadog")]),
        expected_values=expected(role_name="CustomDatadog\u200b"),
    )
    assert "CustomDatadog" in one(findings, "role_name_mismatch").detail


def test_near_miss_with_broken_trust_policy_does_not_crash():
    findings = run(snapshot(missing=True, other_roles=[candidate("X", "{not json")]))
    assert [f.check for f in findings] == ["role_missing"]
