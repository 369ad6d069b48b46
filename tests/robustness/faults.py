"""Fault injection through botocore's event hooks, for the robustness tests.

`Faults(session)` sees every request the session's clients send ("before-send": after signing,
before the wire) and can answer it with an AWS error response, raise a network exception, or
stall it; every attempt is seen, so botocore's retries really run. Requests are told apart by
operation (`iam.GetRole`), by the account whose credentials sign them, and by attempt number.
"""

from __future__ import annotations

import io
import json
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.exceptions import EndpointConnectionError

# SigV4: "Credential=<access key id>/<date>/<region>/<service>/aws4_request"
_CREDENTIAL = re.compile(r"Credential=([^/]+)/[^/]+/[^/]+/([^/]+)/")
# botocore's wire protocol per service: query (XML errors) or JSON.
_JSON_SERVICES = {"organizations"}


class _Raw(io.BytesIO):
    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.getvalue()


def error_response(service: str, url: str, code: str, message: str, status: int = 400) -> AWSResponse:
    """The HTTP error response AWS sends for `code`, in the service's protocol."""
    if service in _JSON_SERVICES:
        body = json.dumps({"__type": code, "Message": message}).encode()
        headers = {"x-amzn-errortype": code, "content-type": "application/x-amz-json-1.1"}
    elif service == "ec2":  # EC2's own error shape
        body = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
            "<RequestID>fault-injected</RequestID></Response>"
        ).encode()
        headers = {"content-type": "text/xml"}
    else:
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
            "<RequestId>fault-injected</RequestId></ErrorResponse>"
        ).encode()
        headers = {"content-type": "text/xml"}
    return AWSResponse(url, status, headers, _Raw(body))


@dataclass(frozen=True)
class Request:
    operation: str  # "iam.GetRole"
    account: str  # account whose credentials signed it
    attempt: int  # 1 for the first try, 2.. for botocore's retries
    url: str
    body: bytes

    def error(self, code: str, message: str = "injected fault", status: int = 400) -> AWSResponse:
        return error_response(self.operation.split(".")[0], self.url, code, message, status)


# A rule returns an AWSResponse to send instead, raises to simulate the network, or None.
Rule = Callable[[Request], AWSResponse | None]


class Faults:
    def __init__(self, session: boto3.Session, default_account: str) -> None:
        self._default = default_account
        self._keys: dict[str, str] = {}  # access key id -> account (from AssumeRole answers)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._rules: list[tuple[str, Rule]] = []
        self._closed = False
        self.sent: Counter[str] = Counter()  # attempts that reached the (fake) wire, per operation
        self.injected: Counter[str] = Counter()
        session.events.register("before-call", self._new_call)
        # First: moto answers at "before-send" too, and botocore takes the first answer.
        session.events.register_first("before-send", self._before_send)
        session.events.register("after-call.sts.AssumeRole", self._learn_key)

    def add(self, operation: str, rule: Rule) -> None:
        """`operation` is "service.Operation", "service.*" or "*"."""
        with self._lock:
            self._rules.append((operation, rule))

    def close(self) -> None:
        """From now on every request fails at once: threads a test left behind (abandoned by a
        deadline) must not reach anything once the fake AWS is gone."""
        with self._lock:
            self._closed = True

    def current_account(self) -> str:
        """The account of the call this thread is making (valid in after-call hooks)."""
        return str(getattr(self._local, "account", self._default))

    def _new_call(self, **_: Any) -> None:
        self._local.attempt = 0

    def _learn_key(self, parsed: dict[str, Any], **_: Any) -> None:
        if "Credentials" in parsed:
            account = parsed["AssumedRoleUser"]["Arn"].split(":")[4]
            with self._lock:
                self._keys[parsed["Credentials"]["AccessKeyId"]] = account

    def _before_send(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
        self._local.attempt = getattr(self._local, "attempt", 0) + 1
        match = _CREDENTIAL.search(_text(request.headers.get("Authorization")))
        assert match, "unsigned request"
        key, service = match.groups()
        with self._lock:
            if self._closed:
                raise EndpointConnectionError(endpoint_url=request.url)
            account = self._keys.get(key, self._default)
            rules = list(self._rules)
        self._local.account = account
        name = f"{service}.{_operation(request)}"
        req = Request(name, account, self._local.attempt, request.url, _text(request.body).encode())
        for pattern, rule in rules:
            if pattern in ("*", name, f"{service}.*"):
                try:
                    answer = rule(req)
                except BaseException:
                    with self._lock:
                        self.injected[name] += 1
                    raise
                if answer is not None:
                    with self._lock:
                        self.injected[name] += 1
                    return answer
        with self._lock:
            self.sent[name] += 1
        return None


def _text(value: str | bytes | None) -> str:
    return value.decode() if isinstance(value, bytes) else (value or "")


def _operation(request: AWSPreparedRequest) -> str:
    target = _text(request.headers.get("X-Amz-Target"))
    if target:  # JSON protocol: "AWSOrganizationsV20161128.ListRoots"
        return target.split(".", 1)[1]
    action = re.search(r"(?:^|&)Action=([A-Za-z]+)", _text(request.body))  # query protocol
    return action.group(1) if action else "?"
