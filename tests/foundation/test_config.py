import dataclasses
import os
import tomllib
from pathlib import Path

import pytest

from auditor.config import Config, ConfigError, config_from_dict, load_config

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "auditor.example.toml"


def test_example_config_loads_and_equals_the_defaults():
    cfg = load_config(EXAMPLE)
    assert dataclasses.replace(cfg, source="x") == dataclasses.replace(Config(), source="x")


def test_example_config_documents_every_key():
    data = tomllib.loads(EXAMPLE.read_text())
    for section in dataclasses.fields(Config):
        if section.name == "source":
            continue
        keys = {f.name for f in dataclasses.fields(section.type if isinstance(section.type, type) else
                                                    type(getattr(Config(), section.name)))}
        assert set(data[section.name]) == keys, section.name


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"organisation": {}}, "unknown section [organisation] (did you mean 'organization'?)"),
        ({"regions": {"audtied": []}}, "unknown key [regions] audtied (did you mean 'audited'?)"),
        ({"run": {"workers": "8"}}, "[run] workers must be a whole number, found str '8'"),
        ({"run": {"workers": 0}}, "[run] workers = 0 is not allowed; between 1 and 512"),
        ({"run": {"workers": True}}, "[run] workers must be a whole number"),
        ({"datadog": {"site": "datadog.com"}}, "[datadog] site = 'datadog.com' is not allowed"),
        ({"regions": {"audited": ["eu-west-1", 3]}}, "[regions] audited[1] must be a string"),
        ({"regions": {"audited": "eu-west-1"}}, "[regions] audited must be a list of strings"),
        ({"regions": {"audited": ["Europe"]}}, "[regions] audited = 'Europe' is not allowed"),
        ({"regions": {"audited": ["eu-west-1", "eu-west-1"]}}, "regions must not repeat"),
        ({"regions": {"probe_actions": ["GetMetricData"]}}, "[regions] probe_actions = 'GetMetricData'"),
        ({"organization": {"include_accounts": ["12345"]}}, "expected 12-digit account ids"),
        ({"organization": {"exclude_ous": ["Prod"]}}, "[organization] exclude_ous = 'Prod' is not allowed"),
        ({"run": {"fail_on_severity": "severe"}}, "one of: critical, high, medium, low, info"),
        ({"output": {"lock": "maybe"}}, "[output] lock = 'maybe'"),
        ({"datadog": {"expected_values": "csv"}}, "needs [datadog] expected_values_csv"),
        ({"logging": "INFO"}, "[logging] must be a table"),
    ],
)
def test_bad_config_names_the_key_and_what_is_allowed(data, expected):
    with pytest.raises(ConfigError) as err:
        config_from_dict(data, source="audit.toml")
    assert str(err.value).startswith("audit.toml: ")
    assert expected in str(err.value)


def test_invalid_toml_is_reported_with_the_file(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text("[run\nworkers = 3\n")
    with pytest.raises(ConfigError, match=r"bad.toml: not valid TOML"):
        load_config(p)


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(ConfigError, match=r"cannot read config file"):
        load_config(tmp_path / "nope.toml")


def test_lists_become_tuples_and_values_are_kept(tmp_path):
    p = tmp_path / "a.toml"
    p.write_text('[regions]\naudited = ["eu-west-1", "us-east-1"]\n[organization]\ninclude_ous = ["Root/Prod"]\n')
    os.chmod(p, 0o600)
    cfg = load_config(p)
    assert cfg.regions.audited == ("eu-west-1", "us-east-1")
    assert cfg.organization.include_ous == ("Root/Prod",)


def test_digest_changes_with_settings_and_hides_secrets():
    a = config_from_dict({"organization": {"audit_role_external_id": "s3cr3t-value"}})
    b = config_from_dict({"organization": {"audit_role_external_id": "other-value"}})
    assert a.digest != b.digest
    assert a.digest == config_from_dict({"organization": {"audit_role_external_id": "s3cr3t-value"}}).digest
