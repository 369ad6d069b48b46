"""The one door to AWS: a shared boto3 session, read-only by construction, counting calls.

Every client the auditor uses is made here, from one boto3 session, so that:
- botocore's adaptive retries, timeouts and connection pool are configured once;
- every API call passes an allow-list of read-only operations (anything else raises
  `ForbiddenOperation` before a byte is sent);
- calls are counted per `service.Operation` for run.json and the benchmark.

Member accounts are read through one client per worker thread, not one per account: a client
costs milliseconds of CPU to build (under a lock), and its own connection pool (a new TLS
connection, i.e. extra round trips, per account). The thread's client signs with whatever
credentials the thread set with `act_as`, so an account's reads never carry another's keys.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
from botocore.config import Config as BotoConfig
from botocore.credentials import Credentials as BotoCredentials
from botocore.credentials import ReadOnlyCredentials
from botocore.exceptions import NoCredentialsError
from botocore.handlers import json_decode_policies
from botocore.utils import parse_timestamp as botocore_parse_timestamp

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
        "ec2.DescribeRegions",
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


class CallCount:
    """API calls one thread made inside one `act_as` block (one account's reads)."""

    def __init__(self) -> None:
        self.calls = 0


class ThreadCredentials(BotoCredentials):
    """Credentials that sign with whatever the *calling thread* set with `AwsGateway.act_as`.

    botocore resolves credentials at signing time, in the thread making the call, through
    `get_frozen_credentials()`. Outside an `act_as` block there are none: a request signed
    without an account would otherwise go out with the caller's own keys.
    """

    def __init__(self, caller: Any) -> None:
        self._local = threading.local()
        self._caller = caller  # () -> botocore credentials of the session (for the caller's own account)
        self.method = "auditor-act-as"
        self.account_id = None

    def use(self, frozen: ReadOnlyCredentials | None) -> None:
        self._local.frozen = frozen

    def get_frozen_credentials(self) -> ReadOnlyCredentials:
        frozen = getattr(self._local, "frozen", None)
        if frozen is None:
            raise NoCredentialsError()
        if frozen is _CALLER:
            creds = self._caller()
            if creds is None:
                raise NoCredentialsError()
            return creds.get_frozen_credentials()
        return frozen

    # Anything that reads the attributes directly gets the same thread's values.
    @property
    def access_key(self) -> str:
        return self.get_frozen_credentials().access_key

    @access_key.setter
    def access_key(self, _: str) -> None:
        pass

    @property
    def secret_key(self) -> str:
        return self.get_frozen_credentials().secret_key

    @secret_key.setter
    def secret_key(self, _: str) -> None:
        pass

    @property
    def token(self) -> str | None:
        return self.get_frozen_credentials().token

    @token.setter
    def token(self, _: str | None) -> None:
        pass


# Marker for "sign with the session's own credentials" (the caller's account).
_CALLER = ReadOnlyCredentials("", "", None)


def parse_timestamp(value: Any) -> datetime:
    """A timestamp from a response: ISO 8601 with a zone (what STS and IAM send) through the standard
    library, anything else (epoch numbers, RFC 822, no zone) as botocore parses it. botocore's own
    parser goes through dateutil for every timestamp: ~5% of the CPU an account costs to read."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return botocore_parse_timestamp(value)
        if parsed.tzinfo is not None:
            return parsed
    return botocore_parse_timestamp(value)


class AwsGateway:
    def __init__(self, run: RunConfig, session: boto3.Session | None = None) -> None:
        self._session = session or boto3.Session()
        # Before any client is made: each client's response parser takes these defaults when created.
        # (boto3 exposes its botocore session, where botocore's documented parser factory lives, only
        # as `_session`.)
        self._session._session.get_component("response_parser_factory").set_parser_defaults(
            timestamp_parser=parse_timestamp)
        self._run = run
        self._calls: Counter[str] = Counter()
        self._calls_lock = threading.Lock()
        # botocore's create_client is not thread-safe on a shared session (boto/botocore#1246).
        self._client_lock = threading.Lock()
        self._session.events.register("before-call", self._before_call)
        # Keep IAM policy documents as the text AWS sent: botocore's decoder raises RecursionError
        # (not a ClientError) on a deeply nested one; auditor.policy parses them into findings.
        self._session.events.unregister("after-call.iam", handler=json_decode_policies)
        self.botocore_config = BotoConfig(
            # total_max_attempts counts the first try; botocore's "max_attempts" counts only retries.
            retries={"mode": "adaptive", "total_max_attempts": run.max_attempts},
            connect_timeout=run.connect_timeout_seconds,
            read_timeout=run.read_timeout_seconds,
            max_pool_connections=max(10, run.workers),
        )
        self.home_region = run.home_region or self._session.region_name or "us-east-1"
        self._thread = threading.local()  # per thread: member clients, the current CallCount
        self._thread_credentials = ThreadCredentials(self._session.get_credentials)
        self._shared: dict[str, Any] = {}
        self._shared_lock = threading.Lock()

    # -- call accounting and the read-only guard -------------------------------------
    def _before_call(self, model: Any, **_: Any) -> None:
        name = f"{model.service_model.service_name}.{model.name}"
        if name not in READ_ONLY_OPERATIONS:
            raise ForbiddenOperation(f"{name} is not on the auditor's read-only allow-list")
        with self._calls_lock:
            self._calls[name] += 1
        count = getattr(self._thread, "count", None)
        if count is not None:
            count.calls += 1

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

    @contextmanager
    def act_as(self, credentials: Credentials | None) -> Iterator[CallCount]:
        """Inside the block, this thread's `account_client`s sign with `credentials` (None: the
        caller's own), and the calls this thread makes are counted in the CallCount yielded."""
        frozen = _CALLER if credentials is None else ReadOnlyCredentials(
            credentials.access_key_id, credentials.secret_access_key, credentials.session_token)
        count = CallCount()
        self._thread_credentials.use(frozen)
        self._thread.count = count
        try:
            yield count
        finally:
            self._thread_credentials.use(None)
            self._thread.count = None

    def account_client(self, service: str) -> Any:
        """This thread's client for reading member accounts: built once per thread and service,
        signing with the credentials of the enclosing `act_as` block."""
        clients: dict[str, Any] = self._thread.__dict__.setdefault("clients", {})
        client = clients.get(service)
        if client is None:
            client = clients[service] = self._act_as_client(service)
        return client

    def shared_account_client(self, service: str) -> Any:
        """One client for every thread (botocore clients are thread-safe), each call signed with the
        calling thread's `act_as` credentials: for a service called once per account (ec2's
        DescribeRegions), where a client per thread would cost more CPU than it saves. Its pool holds
        `max(10, workers)` connections, as many as threads can call at once."""
        with self._shared_lock:  # held while building: the threads that ask at once wait for one client
            client = self._shared.get(service)
            if client is None:
                client = self._shared[service] = self._act_as_client(service)
        return client

    def _act_as_client(self, service: str) -> Any:
        # Placeholder keys: the signer's credentials are replaced before any call is made.
        client = self.client(service, Credentials("ACT-AS-PLACEHOLDER", "-", "-"))
        signer = client._request_signer
        if not isinstance(getattr(signer, "_credentials", None), BotoCredentials):
            raise RuntimeError("this botocore signs differently: cannot bind per-thread credentials")
        signer._credentials = self._thread_credentials
        return client

    def available_regions(self, partition: str) -> tuple[str, ...]:
        """Every region botocore knows for the partition (the default audited set)."""
        return tuple(sorted(self._session.get_available_regions("ec2", partition_name=partition)))

    def regions_by_partition(self) -> dict[str, tuple[str, ...]]:
        """Every partition botocore knows, with its regions (what [regions] audited is checked against)."""
        return {p: self.available_regions(p) for p in self._session.get_available_partitions()}
