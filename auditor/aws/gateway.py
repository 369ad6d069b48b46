"""The one door to AWS: a shared boto3 session, read-only by construction, counting calls.

Every client the auditor uses is made here, from one boto3 session, so that:
- botocore's adaptive retries, timeouts and connection pool are configured once;
- every API call passes an allow-list of read-only operations (anything else raises
  `ForbiddenOperation` before a byte is sent);
- calls are counted per `service.Operation` for run.json and the benchmark.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config as BotoConfig

from auditor.config import RunConfig

# The complete list of AWS operations the auditor may call. Everything is a read.
# config/*-policy.json is derived from this list (tests keep them in sync).
READ_ONLY_OPERATIONS: frozenset[str] = frozenset(
    {
        "sts.GetCallerIdentity",
        "sts.AssumeRole",
        "organizations.DescribeOrganization",
        "organizations.ListRoots",
        "organizations.ListOrganizationalUnitsForParent",
        "organizations.ListAccountsForParent",
        "organizations.ListPolicies",
        "organizations.DescribePolicy",
        "organizations.ListTargetsForPolicy",
        "iam.GetRole",
        "iam.ListRoles",
        "iam.ListAttachedRolePolicies",
        "iam.ListRolePolicies",
        "iam.GetRolePolicy",
        "iam.GetPolicy",
        "iam.GetPolicyVersion",
    }
)


class ForbiddenOperation(RuntimeError):
    """The code tried an AWS operation outside READ_ONLY_OPERATIONS."""


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str

    def __repr__(self) -> str:  # never print secrets, even in a traceback
        return f"Credentials(access_key_id={self.access_key_id[:4]}****)"


class AwsGateway:
    def __init__(self, run: RunConfig, session: boto3.Session | None = None) -> None:
        self._session = session or boto3.Session()
        self._run = run
        self._calls: Counter[str] = Counter()
        self._calls_lock = threading.Lock()
        # botocore's create_client is not thread-safe on a shared session (boto/botocore#1246).
        self._client_lock = threading.Lock()
        self._session.events.register("before-call", self._before_call)
        self.botocore_config = BotoConfig(
            retries={"mode": "adaptive", "max_attempts": run.max_attempts},
            connect_timeout=run.connect_timeout_seconds,
            read_timeout=run.read_timeout_seconds,
            max_pool_connections=max(10, run.workers),
        )
        self.home_region = run.home_region or self._session.region_name or "us-east-1"

    # -- call accounting and the read-only guard -------------------------------------
    def _before_call(self, model: Any, **_: Any) -> None:
        name = f"{model.service_model.service_name}.{model.name}"
        if name not in READ_ONLY_OPERATIONS:
            raise ForbiddenOperation(f"{name} is not on the auditor's read-only allow-list")
        with self._calls_lock:
            self._calls[name] += 1

    @property
    def session(self) -> boto3.Session:
        return self._session

    def api_calls(self) -> dict[str, int]:
        with self._calls_lock:
            return dict(sorted(self._calls.items()))

    # -- clients ---------------------------------------------------------------------
    def client(self, service: str, credentials: Credentials | None = None, region: str | None = None) -> Any:
        kwargs: dict[str, Any] = {"region_name": region or self.home_region, "config": self.botocore_config}
        if credentials is not None:
            kwargs.update(
                aws_access_key_id=credentials.access_key_id,
                aws_secret_access_key=credentials.secret_access_key,
                aws_session_token=credentials.session_token,
            )
        with self._client_lock:
            return self._session.client(service, **kwargs)

    def available_regions(self, partition: str) -> tuple[str, ...]:
        """Every region botocore knows for the partition (the default audited set)."""
        return tuple(sorted(self._session.get_available_regions("ec2", partition_name=partition)))
