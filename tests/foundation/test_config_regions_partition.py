"""[regions] audited names only regions of the organization's partition (botocore's list).

The shape of a name is checked when the config loads; whether it exists in the partition only
once sts:GetCallerIdentity has told the partition, before any account is read.
"""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from auditor.aws.gateway import AwsGateway
from auditor.cli import main
from auditor.config import ConfigError, audited_regions, config_from_dict
from auditor.pipeline import run_audit

KNOWN = {
    "aws": ("eu-west-1", "us-east-1", "ap-east-1"),
    "aws-cn": ("cn-north-1", "cn-northwest-1"),
    "aws-us-gov": ("us-gov-west-1",),
}


def _cfg(*regions: str):
    return config_from_dict({"regions": {"audited": list(regions)}}, source="auditor.toml")


def test_regions_of_the_partition_are_kept_in_the_configured_order() -> None:
    assert audited_regions(_cfg("us-east-1", "eu-west-1"), "aws", KNOWN) == ("us-east-1", "eu-west-1")


def test_no_audited_regions_means_every_region_of_the_partition() -> None:
    assert audited_regions(_cfg(), "aws-cn", KNOWN) == ("cn-north-1", "cn-northwest-1")


def test_a_region_of_another_partition_or_none_is_a_config_error_naming_key_names_and_partition() -> None:
    with pytest.raises(ConfigError) as err:
        audited_regions(_cfg("eu-west-1", "zz-fake-9", "cn-north-1"), "aws", KNOWN)
    text = str(err.value)
    assert text.startswith("auditor.toml: [regions] audited")
    assert "zz-fake-9" in text and "cn-north-1" in text and "'aws'" in text
    assert "eu-west-1" not in text.split(";")[0]  # only the bad names are blamed
    assert "cn-north-1 is in partition aws-cn" in text  # says where a real region belongs


def test_an_unknown_partition_is_a_clear_error_too() -> None:
    with pytest.raises(ConfigError, match="partition 'aws-eusc'"):
        audited_regions(_cfg("eu-west-1"), "aws-eusc", KNOWN)


def test_botocore_knows_the_real_partitions() -> None:
    gateway = AwsGateway(config_from_dict({}).run, boto3.Session(region_name="us-east-1"))
    known = gateway.regions_by_partition()
    assert "ap-east-1" in known["aws"] and "cn-north-1" in known["aws-cn"]
    assert "cn-north-1" not in known["aws"]


def test_run_stops_with_a_config_error_before_any_account_is_read() -> None:
    cfg = _cfg("eu-west-1", "zz-fake-9", "cn-north-1")
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        session.client("organizations").create_organization(FeatureSet="ALL")
        gateway = AwsGateway(cfg.run, session)
        with pytest.raises(ConfigError, match="zz-fake-9"):
            run_audit(cfg, gateway, env={})
        calls = gateway.api_calls()
    assert not any(op.startswith(("iam.", "sts.AssumeRole", "ec2.")) for op in calls), calls


def test_cli_exits_2_with_one_message_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "auditor.toml"
    cfg.write_text('[regions]\naudited = ["eu-west-1", "zz-fake-9", "cn-north-1"]\n'
                   '[datadog]\nexpected_values = "none"\n')
    cfg.chmod(0o600)
    out = tmp_path / "out"
    with mock_aws():
        boto3.client("organizations", region_name="us-east-1").create_organization(FeatureSet="ALL")
        code = main(["run", "--config", str(cfg), "--output-dir", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("zz-fake-9") == 1 and "[regions] audited" in err
    assert not [p for p in out.iterdir() if p.is_dir()]
