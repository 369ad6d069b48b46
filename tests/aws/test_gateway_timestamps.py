"""Response timestamps: parsed by the standard library where it can, exactly as botocore would."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest
from botocore.utils import parse_timestamp as botocore_parse
from moto import mock_aws

from auditor.aws.gateway import AwsGateway, parse_timestamp
from auditor.config import RunConfig


@pytest.mark.parametrize("value", [
    "2026-11-29T17:00:00Z", "2026-11-29T17:00:00.123Z", "2026-11-29T17:00:00+02:00", "2026-11-29T17:00:00.5+00:00",
    "2026-11-29T17:00:00", "Sun, 29 Nov 2026 17:00:00 GMT", 1796000000, 1796000000.25, "1796000000",
])
def test_a_timestamp_means_the_same_instant_botocore_would_give(value: object) -> None:
    mine, theirs = parse_timestamp(value), botocore_parse(value)
    assert mine == theirs
    assert (mine.tzinfo is None) == (theirs.tzinfo is None)  # a zone-less text stays zone-less, as botocore has it


def test_clients_made_by_the_gateway_parse_response_timestamps_with_it() -> None:
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        session.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")
        created = AwsGateway(RunConfig(), session).client("iam").get_role(RoleName="r")["Role"]["CreateDate"]
    assert isinstance(created, datetime) and created.tzinfo is UTC  # the standard library's UTC, not dateutil's
