"""Every config value is bounded: numbers finite and in range, names as AWS allows them, paths and
strings without control characters or unbounded length, lists with a maximum size. Each bad value
is one ConfigError naming `[section] key`."""

from __future__ import annotations

import dataclasses
import math
import typing
from pathlib import Path

import pytest

from auditor.config import _SECTION_TYPES, ConfigError, LoggingConfig, config_from_dict, load_config
from auditor.config_bounds import LIST_LIMITS, NUMBER_RANGES

NUMBER_KEYS = [(section, f.name) for section, cls in _SECTION_TYPES.items() for f in dataclasses.fields(cls)
               if typing.get_type_hints(cls)[f.name] in (int, float)]
FLOAT_KEYS = [(s, k) for s, k in NUMBER_KEYS if typing.get_type_hints(_SECTION_TYPES[s])[k] is float]
LIST_KEYS = [(section, f.name) for section, cls in _SECTION_TYPES.items() for f in dataclasses.fields(cls)
             if typing.get_origin(typing.get_type_hints(cls)[f.name]) is tuple]


def _error(data: dict[str, typing.Any]) -> str:
    with pytest.raises(ConfigError) as err:
        config_from_dict(data, source="audit.toml")
    return str(err.value)


def test_every_number_and_list_key_has_a_bound() -> None:
    assert set(NUMBER_KEYS) == set(NUMBER_RANGES)
    assert set(LIST_KEYS) == set(LIST_LIMITS)


@pytest.mark.parametrize(("section", "key"), FLOAT_KEYS)
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_nan_and_infinity_are_refused_for_every_number(section: str, key: str, value: float) -> None:
    message = _error({section: {key: value}})
    assert f"[{section}] {key} = {value!r} is not allowed" in message and "finite" in message


@pytest.mark.parametrize(("section", "key"), NUMBER_KEYS)
def test_each_number_is_refused_just_outside_its_range_and_kept_at_its_ends(section: str, key: str) -> None:
    rng = NUMBER_RANGES[section, key]
    kind = typing.get_type_hints(_SECTION_TYPES[section])[key]
    step = 1 if kind is int else 0.5
    too_big = rng.high + step
    assert f"[{section}] {key} = {too_big!r} is not allowed" in _error({section: {key: too_big}})
    too_small = rng.low if rng.low_exclusive else rng.low - step
    assert f"[{section}] {key}" in _error({section: {key: too_small}})
    assert getattr(getattr(config_from_dict({section: {key: kind(rng.high)}}), section), key) == rng.high


def test_toml_nan_for_the_run_timeout_is_a_config_error(tmp_path: Path) -> None:
    p = tmp_path / "a.toml"
    p.write_text("[run]\nrun_timeout_seconds = nan\n")
    p.chmod(0o600)
    with pytest.raises(ConfigError, match=r"\[run\] run_timeout_seconds = nan is not allowed"):
        load_config(p)


@pytest.mark.parametrize(("section", "key"), LIST_KEYS)
def test_every_list_has_a_maximum_size(section: str, key: str) -> None:
    default = getattr(getattr(config_from_dict({}), section), key)
    item = default[0] if default else {"audited": "eu-west-1", "include_accounts": "111122223333",
                                       "exclude_accounts": "111122223333", "include_ous": "Root/Prod",
                                       "exclude_ous": "Root/Prod", "result_tags": "env:prod"}[key]
    items = [item] * (LIST_LIMITS[section, key] + 1)
    assert f"[{section}] {key}" in _error({section: {key: items}}) and "at most" in _error({section: {key: items}})


@pytest.mark.parametrize(("section", "key", "value"), [
    ("datadog", "role_name", "R" * 65),
    ("datadog", "role_name", "Datadog Integration Role"),
    ("datadog", "role_name", "path/DatadogIntegrationRole"),
    ("datadog", "role_name", "Datadog\x1b[2JRole"),
    ("datadog", "role_name", "Rôle"),
    ("organization", "audit_role_name", "A" * 65),
    ("organization", "audit_role_name", "Àudit"),
    ("organization", "audit_role_path", "/" + "p" * 511 + "/"),
    ("organization", "audit_role_path", "/with space/"),
    ("organization", "audit_role_external_id", "x"),
    ("organization", "audit_role_external_id", "x" * 1225),
    ("organization", "audit_role_external_id", "has space"),
    ("organization", "include_ous", ["Root/" + "P" * 2000]),
    ("organization", "include_ous", ["Root/Prod\x1b[2J"]),
    ("datadog", "api_url", "https://api.datadoghq.com/\x00"),
    ("datadog", "api_url", "https://x.example/" + "a" * 2100),
    ("datadog", "expected_values_csv", "dd\x00.csv"),
    ("output", "directory", "reports\x00"),
    ("output", "directory", "r" * 5000),
    ("logging", "file", "audit\x1b.log"),
    ("logging", "file", ""),
    ("regions", "probe_actions", ["cloudwatch:" + "G" * 200]),
    ("regions", "audited", ["eu-" + "w" * 100 + "-1"]),
    ("run", "home_region", "eu-" + "w" * 100 + "-1"),
])
def test_names_paths_and_strings_are_bounded(section: str, key: str, value: typing.Any) -> None:
    message = _error({section: {key: value}})
    assert f"[{section}] {key}" in message
    assert "\x00" not in message and "\x1b" not in message  # the refusal is safe to print


@pytest.mark.parametrize(("section", "key", "value"), [
    ("datadog", "role_name", "R" * 64),
    ("datadog", "role_name", "Datadog+=,.@-_Role1"),
    ("organization", "audit_role_path", "/" + "p" * 510 + "/"),
    ("organization", "audit_role_path", "/a/b-c_d/"),
    ("organization", "audit_role_external_id", "ab"),
    ("organization", "audit_role_external_id", "x" * 1224),
    ("organization", "audit_role_external_id", "a1:b/c=d,e.f@g-h+i_j"),
    ("datadog", "api_url", "http://127.0.0.1:8080/"),
    ("output", "directory", "/var/lib/auditor/reports"),
    ("logging", "file", "/var/log/auditor/auditor.log"),
])
def test_values_at_their_limits_are_kept(section: str, key: str, value: str) -> None:
    assert getattr(getattr(config_from_dict({section: {key: value}}), section), key) == value


def test_default_logging_config_is_valid() -> None:
    assert config_from_dict({}).logging == LoggingConfig()
