"""A simulated AWS for the benchmark: moto, plus a fixed latency per call and AWS-like throttling.

Run as its own process (`python bench/simaws.py --accounts 1000`) so that the auditor's CPU and
memory are measured apart from the simulation's. It builds the organization straight into
moto's backends (10,000 accounts through HTTP would take longer than the benchmark), then
serves moto's WSGI app behind `SimulatedAws`, a middleware that
- holds every response until `latency` seconds after the request arrived (moto's own work
  counts inside the latency, as AWS's does);
- throttles with token buckets: per operation for Organizations (TooManyRequestsException),
  per caller credentials for STS and IAM (Throttling), the way AWS's limits are scoped;
- counts calls and throttled calls per operation, served at GET /__bench/stats.
When ready it prints one JSON line to stdout: {"port": ..., "build_seconds": ..., ...}.

Two moto behaviours are changed to match AWS at scale: ListTargetsForPolicy pages by 20 like
AWS (moto returns every target at once), and the access key -> account lookup is an index
(moto scans every account's IAM backend on every request, O(accounts)). ec2 DescribeRegions
(each account's region opt-in status) is answered by the middleware itself, with the same
latency and counted like any call: moto's EC2 spends ~90 ms of CPU per call (and builds each
account's EC2 backend), which would make the simulation, not the auditor, the bottleneck. Every
account has enabled every region, except one account in ten (id ending in 0) that has not
opted into ap-east-1.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import io
import json
import os
import socket
import sys
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.orgshape import PAGE, Shape

DATADOG_ROLE = "DatadogIntegrationRole"
AUDIT_ROLE = "OrganizationAccountAccessRole"
DATADOG_PRINCIPAL = "arn:aws:iam::464622532012:root"
REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1", "ap-northeast-1",
           "sa-east-1", "ca-central-1", "eu-north-1", "ap-south-1")
OPT_IN_OFF_REGION = "ap-east-1"
DATADOG_PERMISSIONS = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Resource": "*", "Action": [
        "cloudwatch:Get*", "cloudwatch:List*", "ec2:Describe*", "tag:GetResources", "logs:Describe*",
        "rds:Describe*", "lambda:List*"]}],
})


# --- throttling ------------------------------------------------------------------------------


class TokenBucket:
    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = burst
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


def parse_throttle(spec: str) -> dict[str, tuple[float, float]]:
    """"organizations=5/10,sts=600,iam=100" -> {service: (rate per second, burst)}; burst defaults to rate."""
    out: dict[str, tuple[float, float]] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        service, _, value = part.partition("=")
        rate, _, burst = value.partition("/")
        try:
            r = float(rate)
            b = float(burst) if burst else max(1.0, r)
        except ValueError:
            raise SystemExit(f"--throttle: {part!r} is not service=rate[/burst]") from None
        if service not in ("organizations", "sts", "iam") or r <= 0 or b < 1:
            raise SystemExit(f"--throttle: {part!r}: service is organizations, sts or iam; rate > 0, burst >= 1")
        out[service] = (r, b)
    return out


_THROTTLE_JSON = json.dumps({
    "__type": "TooManyRequestsException", "Type": "client",
    "Message": "AWS Organizations can't complete your request because it received too many requests.",
}).encode()
_THROTTLE_XML = (
    '<ErrorResponse xmlns="https://{service}.amazonaws.com/doc/"><Error><Type>Sender</Type>'
    "<Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>{rid}</RequestId></ErrorResponse>"
)


def _throttle_response(service: str) -> tuple[str, list[tuple[str, str]], bytes]:
    if service == "organizations":
        body, ctype = _THROTTLE_JSON, "application/x-amz-json-1.1"
    else:
        body, ctype = _THROTTLE_XML.format(service=service, rid=uuid.uuid4()).encode(), "text/xml"
    return "400 Bad Request", [("Content-Type", ctype), ("Content-Length", str(len(body)))], body


# --- the middleware ----------------------------------------------------------------------------


_REGIONS_XML = (
    '<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>{rid}</requestId>'
    "<regionInfo>{items}</regionInfo></DescribeRegionsResponse>"
)
_REGION_ITEM = ("<item><regionName>{0}</regionName><regionEndpoint>ec2.{0}.amazonaws.com</regionEndpoint>"
                "<optInStatus>{1}</optInStatus></item>")


@functools.cache
def _commercial_regions() -> frozenset[str]:
    import boto3

    return frozenset(boto3.Session().get_available_regions("ec2", partition_name="aws"))


def _opt_in_filter(body: bytes) -> frozenset[str]:
    """The values of an `opt-in-status` filter in a DescribeRegions request (empty: no such filter)."""
    params = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
    for k, v in params.items():
        if k.startswith("Filter.") and k.endswith(".Name") and v == ["opt-in-status"]:
            prefix = k[: -len("Name")] + "Value."
            return frozenset(x for key, vals in params.items() if key.startswith(prefix) for x in vals)
    return frozenset()


def _describe_regions(key: str, statuses: frozenset[str] = frozenset()) -> tuple[str, list[tuple[str, str]], bytes]:
    """DescribeRegions (AllRegions) of the account whose keys signed: every region of the partition
    with its opt-in status (moto's list of the regions that need no opt-in), only those whose
    status is in `statuses` when given (AWS's opt-in-status filter)."""
    from moto.ec2.models.availability_zones_and_regions import RegionsAndZonesBackend
    from moto.iam import models as iam_models

    account = iam_models.get_account_id_from(key)
    ours = _commercial_regions()
    found = ((r.name, _opt_in_status(account, r.name, r.opt_in_status))
             for r in RegionsAndZonesBackend.regions if r.name in ours)
    items = "".join(_REGION_ITEM.format(name, st) for name, st in found if not statuses or st in statuses)
    body = _REGIONS_XML.format(rid=uuid.uuid4(), items=items).encode()
    return "200 OK", [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))], body



def classify(environ: dict[str, Any], body: bytes) -> tuple[str, str, str]:
    """(service, operation, access key id) of a signed AWS request."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    service, key = "unknown", ""
    if "Credential=" in auth:
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")
        key = scope[0]
        service = scope[3] if len(scope) > 3 else service
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return service, target.rsplit(".", 1)[-1], key
    action = urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("Action", ["?"])[0]
    return service, action, key


@dataclass
class Stats:
    calls: Counter[str]
    throttled: Counter[str]

    def as_dict(self) -> dict[str, Any]:
        return {"calls": dict(sorted(self.calls.items())), "throttled": dict(sorted(self.throttled.items())),
                "cpu_seconds": time.process_time()}


class SimulatedAws:
    def __init__(self, app: Callable[..., Iterable[bytes]], latency: float,
                 throttle: dict[str, tuple[float, float]]) -> None:
        self.app, self.latency, self.throttle = app, latency, throttle
        self.lock = threading.Lock()
        self.buckets: dict[tuple[str, str], TokenBucket] = {}
        self.stats = Stats(Counter(), Counter())

    def _admit(self, service: str, operation: str, key: str) -> bool:
        if service not in self.throttle:
            return True
        # Organizations limits each operation; STS and IAM limit each caller (account).
        bucket_key = (service, operation if service == "organizations" else key)
        with self.lock:
            bucket = self.buckets.get(bucket_key)
            if bucket is None:
                bucket = self.buckets[bucket_key] = TokenBucket(*self.throttle[service])
            return bucket.take()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith("/__bench/"):
            return self._control(environ, start_response)
        arrived = time.monotonic()
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        service, operation, key = classify(environ, body)
        name = f"{service}.{operation}"
        admitted = self._admit(service, operation, key)
        with self.lock:
            self.stats.calls[name] += 1
            if not admitted:
                self.stats.throttled[name] += 1
        if admitted and name == "ec2.DescribeRegions":
            status, headers, payload = _describe_regions(key, _opt_in_filter(body))
        elif admitted:
            captured: list[Any] = []
            payload = b"".join(self.app(environ, lambda status, headers, *_: captured.extend((status, headers))))
            status, headers = captured
        else:
            status, headers, payload = _throttle_response(service)
        remaining = self.latency - (time.monotonic() - arrived)
        if remaining > 0:
            time.sleep(remaining)
        start_response(status, headers)
        return [payload]

    def reset(self) -> None:
        with self.lock:
            self.stats = Stats(Counter(), Counter())
            self.buckets.clear()

    def _control(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ["PATH_INFO"] == "/__bench/reset":
            self.reset()
        with self.lock:
            body = json.dumps(self.stats.as_dict()).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


# --- moto at scale ---------------------------------------------------------------------------


def patch_moto() -> None:
    """Make moto behave like AWS where the benchmark depends on it, and stay O(1) per request."""

    from moto import backends
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.core import responses as core_responses
    from moto.core import utils as core_utils
    from moto.core.base_backend import BackendDict
    from moto.iam import models as iam_models
    from moto.organizations import responses as org_responses
    from moto.sts.models import STSBackend

    from auditor.demo.moto_trust import _assume_role

    STSBackend.assume_role = _assume_role  # AssumeRole refuses what AWS refuses
    # moto lists its package directory and inspects its response classes on every request:
    # more CPU than the request itself. Their answers never change while serving.
    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules
    cached_names = functools.cache(core_utils.method_names_from_class)
    core_utils.method_names_from_class = cached_names
    if hasattr(core_responses, "method_names_from_class"):
        core_responses.method_names_from_class = cached_names
    # And it finds an account's backends by scanning a list of every account id: O(accounts).
    original_create = BackendDict._create_account_specific_backend

    def create_account_specific_backend(self: Any, account_id: str) -> None:
        if not dict.__contains__(self, account_id):
            original_create(self, account_id)

    BackendDict._create_account_specific_backend = create_account_specific_backend  # type: ignore[method-assign]

    accounts_by_key: dict[str, str] = {}
    original_temp_key = iam_models.IAMBackend.create_temp_access_key

    def create_temp_access_key(self: Any) -> Any:
        key = original_temp_key(self)
        accounts_by_key[key.physical_resource_id] = self.account_id
        return key

    iam_models.IAMBackend.create_temp_access_key = create_temp_access_key  # type: ignore[method-assign]
    iam_models.get_account_id_from = lambda access_key: accounts_by_key.get(access_key, DEFAULT_ACCOUNT_ID)

    # The organization does not change while serving: list each policy's targets and each
    # parent's accounts once, then hand out pages of 20 (moto rebuilds the whole list per page,
    # which at 10,000 accounts costs the simulation more CPU than the auditor spends).
    listed: dict[tuple[str, str], list[dict[str, Any]]] = {}
    listed_lock = threading.Lock()

    def page_of(key: tuple[str, str], build: Callable[[], list[dict[str, Any]]], token: str | None,
                limit: int | None, field: str) -> str:
        with listed_lock:
            if key not in listed:
                listed[key] = build()
            items = listed[key]
        start = int(token or 0)
        size = min(PAGE, limit or PAGE)
        page: dict[str, Any] = {field: items[start:start + size]}
        if start + size < len(items):
            page["NextToken"] = str(start + size)
        return json.dumps(page)

    def list_targets_for_policy(self: Any) -> str:
        pid = self._get_param("PolicyId")
        return page_of(("targets", pid),
                       lambda: self.organizations_backend.list_targets_for_policy(PolicyId=pid)["Targets"],
                       self._get_param("NextToken"), self._get_int_param("MaxResults"), "Targets")

    def list_accounts_for_parent(self: Any) -> str:
        parent = self._get_param("ParentId")
        backend = self.organizations_backend

        def build() -> list[dict[str, Any]]:
            backend.validate_parent_id(parent)
            return [a.describe() for a in backend.accounts if a.parent_id == parent]

        return page_of(("accounts", parent), build, self._get_param("NextToken"), self._get_int_param("MaxResults"),
                       "Accounts")

    org_responses.OrganizationsResponse.list_targets_for_policy = list_targets_for_policy  # type: ignore[method-assign]
    org_responses.OrganizationsResponse.list_accounts_for_parent = list_accounts_for_parent  # type: ignore[method-assign]


def _opt_in_status(account: str, region: str, default: str) -> str:
    """Every region enabled, but ap-east-1 left off in one account in ten."""
    if region == OPT_IN_OFF_REGION and account.endswith("0"):
        return "not-opted-in"
    return "opted-in" if default == "not-opted-in" else default


# --- building the organization -----------------------------------------------------------------


def _region_deny(i: int, kind: str) -> str:
    allowed = [REGIONS[(i + k) % len(REGIONS)] for k in range(2 + i % 4)]
    if kind == "SERVICE_CONTROL_POLICY":
        statement: dict[str, Any] = {
            "Sid": f"DenyOutside{i}", "Effect": "Deny", "Resource": "*",
            "NotAction": ["iam:*", "sts:*", "organizations:*", "support:*", "cloudfront:*", "route53:*"],
            "Condition": {"StringNotEquals": {"aws:RequestedRegion": allowed},
                          "ArnNotLike": {"aws:PrincipalARN": [f"arn:aws:iam::*:role/BreakGlass{i}"]}},
        }
    else:
        statement = {
            "Sid": f"Perimeter{i}", "Effect": "Deny", "Principal": "*", "Resource": "*",
            "Action": ["sts:AssumeRole", "s3:*", "kms:*"],
            "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-exampleorgid"},
                          "StringNotEquals": {"aws:RequestedRegion": allowed}, "BoolIfExists": {
                              "aws:PrincipalIsAWSService": "false"}},
        }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _trust(external_id: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": DATADOG_PRINCIPAL}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": external_id}}}]})


def _plant_datadog_role(account_id: str) -> None:
    from moto.iam.models import iam_backends

    iam = iam_backends[account_id]["global"]
    iam.create_role(role_name=DATADOG_ROLE, assume_role_policy_document=_trust(f"ext-{account_id}"), path="/",
                    permissions_boundary=None, description="Datadog AWS integration", tags=[],
                    max_session_duration="3600")
    iam.get_role(DATADOG_ROLE).put_policy("DatadogAWSIntegrationPolicy", DATADOG_PERMISSIONS)


def build_organization(shape: Shape) -> dict[str, Any]:
    """Build `shape` in moto's backends (in this process). Returns a summary for the harness."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.organizations import utils as org_utils
    from moto.organizations.models import FakeAccount, FakePolicy, organizations_backends

    org = organizations_backends[DEFAULT_ACCOUNT_ID]["aws"]
    org.create_organization(region="us-east-1", FeatureSet="ALL")
    assert org.org is not None
    root = org.ou[0]
    for ptype in ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"):
        org.enable_policy_type(RootId=root.id, PolicyType=ptype)
    defaults = [org.get_policy_by_id(p) for p in (org_utils.DEFAULT_SCP_POLICY_ID, org_utils.DEFAULT_RCP_POLICY_ID)]
    ids = {"root": root.id}
    units = shape.units()
    for u in units[1:]:
        ids[u.key] = org.create_organizational_unit(ParentId=ids[u.parent], Name=u.name)["OrganizationalUnit"]["Id"]
    ou_keys = [u.key for u in units[1:]]
    # Custom policies: one per OU, SCPs first, in the order ListPolicies returns them.
    for kind, count in (("SERVICE_CONTROL_POLICY", shape.scps), ("RESOURCE_CONTROL_POLICY", shape.rcps)):
        for i in range(count):
            pol = FakePolicy(org.org, Name=f"{kind[:1]}cp-region-{i}", Description="bench", Type=kind,
                             Content=_region_deny(i, kind))
            org.policies.append(pol)
            org.attach_policy(PolicyId=pol.id, TargetId=ids[ou_keys[i % len(ou_keys)]] if ou_keys else root.id)
    member_ids: list[str] = []
    seen: set[str] = {org.org.master_account_id}
    for u in units:
        for k in range(u.accounts):
            acct = FakeAccount(org.org, AccountName=f"{u.name.lower()}-{k:05d}", Email=f"{u.key}-{k}@example.com")
            while acct.id in seen:  # moto draws ids at random
                acct.id = org_utils.make_random_account_id()
            seen.add(acct.id)
            acct.parent_id = ids[u.key]
            org.accounts.append(acct)
            for pol in defaults:  # what create_account does, without its O(accounts) lookup
                acct.attached_policies.append(pol)
                pol.attachments.append(acct)
            organizations_backends.master_accounts[acct.id] = (org.account_id, "aws")
            _create_audit_role(acct.id, org.org.master_account_id)  # moto >= 5 makes it; older moto does not
            _plant_datadog_role(acct.id)
            member_ids.append(acct.id)
    _plant_datadog_role(org.org.master_account_id)
    return {"management_account_id": org.org.master_account_id, "members": len(member_ids),
            "sample_members": member_ids[:: max(1, len(member_ids) // 50)][:50]}


def _create_audit_role(account_id: str, management: str) -> None:
    from moto.iam.models import iam_backends

    iam = iam_backends[account_id]["global"]
    if any(r.name == AUDIT_ROLE for r in iam.roles.values()):
        return
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": f"arn:aws:iam::{management}:root"}}]}
    iam.create_role(role_name=AUDIT_ROLE, path="/", permissions_boundary=None, description="", tags=[],
                    max_session_duration="3600", assume_role_policy_document=json.dumps(trust))


# --- serving -----------------------------------------------------------------------------------


class KeepAliveHandler(http.server.BaseHTTPRequestHandler):
    """A WSGI gateway that keeps connections open between calls, as botocore does against AWS.

    werkzeug's development server closes every connection (and, after each response, drains the
    socket with a blocking read that would swallow the next request on a kept-alive one).
    """

    protocol_version = "HTTP/1.1"
    app: Callable[..., Iterable[bytes]]

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without this, Nagle's algorithm and the
        # client's delayed ACK add 40 ms to every call.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urllib.parse.urlsplit(self.path)
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.command, "SCRIPT_NAME": "", "PATH_INFO": urllib.parse.unquote(url.path),
            "QUERY_STRING": url.query, "SERVER_NAME": "127.0.0.1", "SERVER_PORT": str(self.server.server_address[1]),
            "SERVER_PROTOCOL": self.request_version, "REMOTE_ADDR": self.client_address[0],
            "CONTENT_LENGTH": str(length), "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
        }
        for key, value in self.headers.items():
            name = "HTTP_" + key.upper().replace("-", "_")
            if name not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                environ[name] = f"{environ[name]},{value}" if name in environ else value
        captured: list[Any] = []
        payload = b"".join(self.app(environ, lambda status, headers, *_: captured.extend((status, headers))))
        status, headers = captured
        code, _, reason = status.partition(" ")
        self.send_response(int(code), reason)
        for key, value in headers:
            if key.lower() not in ("content-length", "connection", "server", "date"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve(shape: Shape, latency: float, throttle: dict[str, tuple[float, float]], port: int = 0) -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    started = time.perf_counter()
    patch_moto()
    summary = build_organization(shape)
    build_seconds = time.perf_counter() - started

    app = SimulatedAws(DomainDispatcherApplication(create_backend_app), latency, throttle)

    class Handler(KeepAliveHandler):
        pass

    Handler.app = app

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True
        # socketserver's default backlog of 5 drops the SYNs of a burst of new connections
        # (every worker connects at once): the client then retries after a whole second.
        request_queue_size = 1024

    server = Server(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _warm_up(server.server_address[1])
    app.reset()
    print(json.dumps({"port": server.server_address[1], "build_seconds": round(build_seconds, 2),
                      "pid": os.getpid(), **summary}), flush=True)
    threading.Event().wait()  # serve until terminated


def _warm_up(port: int) -> None:
    """One call per service, so that moto's lazily built per-service apps are not timed."""
    import boto3

    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    url = f"http://127.0.0.1:{port}"
    session.client("sts", endpoint_url=url).get_caller_identity()
    session.client("organizations", endpoint_url=url).describe_organization()
    session.client("iam", endpoint_url=url).get_role(RoleName=DATADOG_ROLE)
    session.client("ec2", endpoint_url=url).describe_regions(AllRegions=True)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    p.add_argument("--accounts", type=int, required=True)
    p.add_argument("--latency-ms", type=float, default=50.0)
    p.add_argument("--throttle", default="", help="e.g. organizations=5/10,sts=600,iam=100 (rate[/burst] per s)")
    p.add_argument("--port", type=int, default=0)
    a = p.parse_args(argv)
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "false")
    serve(Shape(a.accounts), a.latency_ms / 1000.0, parse_throttle(a.throttle), a.port)


if __name__ == "__main__":
    main()
