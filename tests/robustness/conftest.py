"""Fixtures: a small organization in moto, reached through a session that faults can be injected into."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import botocore.retries.bucket
import botocore.retries.standard
import pytest
from fault_org import Org, build_org
from faults import Faults
from moto import mock_aws

from auditor.demo.moto_trust import enforce_role_trust


@pytest.fixture(autouse=True)
def instant_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore's retry backoff and adaptive client-side rate limiter, minus the waiting.

    The retries themselves still happen (every attempt reaches the fault hooks); only the
    sleeps between them go, so a throttling storm costs milliseconds instead of minutes.
    """
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, ctx: 0)
    monkeypatch.setattr(botocore.retries.bucket.TokenBucket, "acquire", lambda self, amount=1, block=True: True)


@pytest.fixture(scope="module")
def org_in_moto() -> Iterator[tuple[str, tuple[str, ...], str]]:
    """One organization per test module: the auditor only reads it, so tests can share it."""
    with mock_aws(), enforce_role_trust():
        setup = boto3.Session(aws_access_key_id="setup", aws_secret_access_key="setup", region_name="us-east-1")
        yield build_org(setup, 5)


@pytest.fixture
def org(org_in_moto: tuple[str, tuple[str, ...], str]) -> Iterator[Org]:
    mgmt, members, ou = org_in_moto
    # A fresh session per test: its faults see only this test's calls.
    session = boto3.Session(aws_access_key_id="AKIAAUDITOR", aws_secret_access_key="auditor-secret-key",
                            region_name="us-east-1")
    faults = Faults(session, mgmt)
    yield Org(session, faults, mgmt, members, ou)
    faults.close()
