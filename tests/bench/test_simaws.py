"""The simulated AWS's parts: request classification, token buckets, throttle specs."""

from __future__ import annotations

import io
import json

import pytest

from bench import synthetic
from bench.orgshape import Shape
from bench.simaws import SimulatedAws, TokenBucket, classify, parse_throttle


def test_classify_reads_service_operation_and_key_from_a_signed_request():
    auth = "AWS4-HMAC-SHA256 Credential=ASIAKEY/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=x"
    assert classify({"HTTP_AUTHORIZATION": auth}, b"Action=GetRole&RoleName=x") == ("iam", "GetRole", "ASIAKEY")
    target = {"HTTP_AUTHORIZATION": auth.replace("/iam/", "/organizations/"),
              "HTTP_X_AMZ_TARGET": "AWSOrganizationsV20161128.ListRoots"}
    assert classify(target, b"{}") == ("organizations", "ListRoots", "ASIAKEY")


def test_token_bucket_admits_its_burst_then_refuses():
    bucket = TokenBucket(rate=0.001, burst=3)
    assert [bucket.take() for _ in range(5)] == [True, True, True, False, False]


def test_throttle_specs_and_bad_ones():
    assert parse_throttle("organizations=5/10,sts=600") == {"organizations": (5.0, 10.0), "sts": (600.0, 600.0)}
    for bad in ("s3=5", "iam=0", "sts=fast", "organizations=5/0"):
        with pytest.raises(SystemExit):
            parse_throttle(bad)


def _call(app: SimulatedAws, service: str, target: str) -> tuple[str, bytes]:
    auth = f"AWS4-HMAC-SHA256 Credential=AKIDKEY/20260101/us-east-1/{service}/aws4_request, Signature=x"
    environ = {"HTTP_AUTHORIZATION": auth, "HTTP_X_AMZ_TARGET": target, "CONTENT_LENGTH": "2",
               "wsgi.input": io.BytesIO(b"{}"), "PATH_INFO": "/"}
    seen: list[str] = []
    body = b"".join(app(environ, lambda status, headers, *_: seen.append(status)))
    return seen[0], body


def test_throttled_organizations_call_answers_too_many_requests_without_reaching_moto():
    reached: list[str] = []

    def moto(environ, start_response):
        reached.append(environ["HTTP_X_AMZ_TARGET"])
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"{}"]

    app = SimulatedAws(moto, latency=0.0, throttle={"organizations": (0.001, 1)})
    assert _call(app, "organizations", "X.ListRoots")[0] == "200 OK"
    status, body = _call(app, "organizations", "X.ListRoots")
    assert status.startswith("400") and json.loads(body)["__type"] == "TooManyRequestsException"
    assert _call(app, "organizations", "X.ListPolicies")[0] == "200 OK"  # buckets are per operation
    assert reached == ["X.ListRoots", "X.ListPolicies"]
    assert app.stats.throttled == {"organizations.ListRoots": 1}


def test_synthetic_inventory_has_the_shape_the_simulation_builds():
    shape = Shape(130)
    inventory, snapshots = synthetic.build(shape)
    assert len(inventory.accounts) == 131 == len(snapshots)
    assert len(inventory.units) == 1 + shape.ous
    assert len(inventory.policies) == shape.scps + shape.rcps + 2
    full = [p for p in inventory.policies if p.aws_managed]
    assert all(len(p.targets) == len(inventory.units) + len(inventory.accounts) for p in full)


def test_simulated_accounts_enabled_every_region_but_one_in_ten_left_ap_east_1_off():
    from bench.simaws import _opt_in_status

    assert _opt_in_status("123456789010", "ap-east-1", "not-opted-in") == "not-opted-in"
    assert _opt_in_status("123456789011", "ap-east-1", "not-opted-in") == "opted-in"
    assert _opt_in_status("123456789010", "me-south-1", "not-opted-in") == "opted-in"
    assert _opt_in_status("123456789010", "us-east-1", "opt-in-not-required") == "opt-in-not-required"


def test_describe_regions_is_answered_for_the_signing_account_in_ec2s_shape():
    from botocore.parsers import create_parser
    from botocore.session import get_session

    from bench.simaws import _describe_regions

    status, headers, body = _describe_regions("AKIA-UNKNOWN")  # moto's default account 123456789012
    assert status == "200 OK" and dict(headers)["Content-Length"] == str(len(body))
    model = get_session().get_service_model("ec2").operation_model("DescribeRegions")
    parsed = create_parser("ec2").parse({"body": body, "headers": {}, "status_code": 200}, model.output_shape)
    statuses = {r["RegionName"]: r["OptInStatus"] for r in parsed["Regions"]}
    assert statuses["us-east-1"] == "opt-in-not-required" and statuses["ap-east-1"] == "opted-in"
    assert "cn-north-1" not in statuses and "us-gov-west-1" not in statuses
    _, _, only = _describe_regions("AKIA-UNKNOWN0", frozenset({"not-opted-in"}))
    assert b"<regionName>" not in only  # 123456789012: every region enabled


def test_the_opt_in_filter_is_read_from_the_query_body():
    from bench.simaws import _opt_in_filter

    body = b"Action=DescribeRegions&AllRegions=true&Filter.1.Name=opt-in-status&Filter.1.Value.1=not-opted-in"
    assert _opt_in_filter(body) == frozenset({"not-opted-in"})
    assert _opt_in_filter(b"Action=DescribeRegions&AllRegions=true") == frozenset()
