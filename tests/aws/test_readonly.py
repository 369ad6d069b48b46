"""Read-only by construction: the auditor can call nothing but the allow-listed reads."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from moto import mock_aws

import auditor.commands.run
from auditor.aws.gateway import READ_ONLY_OPERATIONS, AwsGateway, ForbiddenOperation
from auditor.cli import main
from auditor.config import RunConfig

WRITES = [
    ("iam", "create_role", {"RoleName": "x", "AssumeRolePolicyDocument": "{}"}),
    ("iam", "put_role_policy", {"RoleName": "x", "PolicyName": "p", "PolicyDocument": "{}"}),
    ("iam", "update_assume_role_policy", {"RoleName": "x", "PolicyDocument": "{}"}),
    ("organizations", "detach_policy", {"PolicyId": "p-12345678", "TargetId": "r-abcd"}),
    ("organizations", "create_policy", {"Content": "{}", "Description": "d", "Name": "n",
                                        "Type": "SERVICE_CONTROL_POLICY"}),
    ("sts", "get_session_token", {}),
]


def test_every_allow_listed_operation_is_a_real_read_operation() -> None:
    models = botocore.session.get_session()
    for name in READ_ONLY_OPERATIONS:
        service, op = name.split(".")
        assert op in models.get_service_model(service).operation_names, name
        assert op.startswith(("Get", "List", "Describe")) or name == "sts.AssumeRole", name


@pytest.mark.parametrize(("service", "method", "params"), WRITES, ids=[f"{s}.{m}" for s, m, _ in WRITES])
def test_write_operation_is_refused_before_anything_is_sent(service: str, method: str, params: dict) -> None:
    with mock_aws():
        session = boto3.Session(aws_access_key_id="a", aws_secret_access_key="b", region_name="us-east-1")
        sent: list[str] = []
        session.events.register_first("before-send", lambda request, **_: sent.append(request.url))
        client = AwsGateway(RunConfig(), session).client(service)
        with pytest.raises(ForbiddenOperation, match="not on the auditor's read-only allow-list"):
            getattr(client, method)(**params)
        assert sent == []
        if method == "create_role":
            assert boto3.client("iam", region_name="us-east-1").list_roles()["Roles"] == []


def test_whole_demo_calls_only_allow_listed_operations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gateways: list[Any] = []

    class RecordingGateway(AwsGateway):
        """Records every operation attempted through the gateway's session, refused ones included."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.attempted: Counter[str] = Counter()
            self.session.events.register_first("before-call", self._record)
            gateways.append(self)

        def _record(self, model: Any, **_: Any) -> None:
            self.attempted[f"{model.service_model.service_name}.{model.name}"] += 1

    monkeypatch.setattr(auditor.commands.run, "AwsGateway", RecordingGateway)
    assert main(["demo", "--output-dir", str(tmp_path), "--accounts", "20", "--quiet"]) == 1
    (gateway,) = gateways
    assert set(gateway.attempted) <= READ_ONLY_OPERATIONS
    assert gateway.attempted == Counter(gateway.api_calls())
    # not vacuous: the run read the organization, assumed roles and read IAM in the accounts
    expected = {"organizations.ListPolicies", "sts.AssumeRole", "iam.GetRole", "iam.GetRolePolicy"}
    assert expected <= set(gateway.attempted)
    (run_dir,) = [p for p in tmp_path.iterdir() if p.is_dir() and p.name[:1].isdigit()]
    run = json.loads((run_dir / "run.json").read_text())
    assert run["api_calls"] == gateway.api_calls()
