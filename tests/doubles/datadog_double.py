"""A local double of Datadog's AWS integration API v2 and results intake (never the real API), for the tests."""

from __future__ import annotations

import copy
import gzip
import json
import re
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from auditor.demo.organization import DATADOG_STANDARD_PERMISSIONS

API_KEY = "ddapikey-0123456789abcdef0123456789abcd"
APP_KEY = "ddappkey-fedcba9876543210fedcba9876543210abcdef01"
PATH = "/api/v2/integration/aws/accounts"
PERMISSIONS_PATH = "/api/v2/integration/aws/iam_permissions/standard"


def dd_account(config_id: str, account_id: str, role_name: str, external_id: str, *,
               regions: dict[str, Any] | None = None, partition: str = "aws") -> dict[str, Any]:
    return {
        "id": config_id,
        "type": "account",
        "attributes": {
            "aws_account_id": account_id,
            "aws_partition": partition,
            "account_tags": [],
            "auth_config": {"role_name": role_name, "external_id": external_id},
            "aws_regions": regions or {"include_all": True},
            "created_at": "2024-05-01T10:00:00Z",
            "modified_at": "2024-05-01T10:00:00Z",
        },
    }


def dd_access_key_account(config_id: str, account_id: str, access_key_id: str, secret_access_key: str, *,
                          regions: dict[str, Any] | None = None, partition: str = "aws") -> dict[str, Any]:
    """An account Datadog reaches with an IAM user's access keys. Datadog's real API does not return the
    secret; the double may, to prove the auditor never reads, stores or prints it."""
    item = dd_account(config_id, account_id, "", "", regions=regions, partition=partition)
    item["attributes"]["auth_config"] = {"access_key_id": access_key_id, "secret_access_key": secret_access_key}
    return item


@dataclass
class FakeDatadog:
    """Speaks GET of the list (optionally paginated with links.next), GET by id and PATCH of the v2
    AWS account configs, and GET of the standard IAM permission list."""

    server: HTTPServer
    accounts: list[dict[str, Any]] = field(default_factory=list)
    page_size: int = 0  # 0: one page, like the real endpoint today
    patches: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    patch_status: dict[str, int] = field(default_factory=dict)  # config id -> forced error status
    # Regions a PATCH silently leaves out of include_only (answering 200), as Datadog does with a
    # region it does not support yet (a newly launched AWS region).
    unsupported_regions: set[str] = field(default_factory=set)
    get_status: dict[str, int] = field(default_factory=dict)  # config id -> forced error status on GET by id
    # The standard IAM permission list it publishes, and a forced error status for that endpoint.
    permissions: list[str] = field(default_factory=lambda: list(DATADOG_STANDARD_PERMISSIONS))
    permissions_status: int = 0
    permission_requests: int = 0

    def install(self) -> None:
        self.server.expect_request(PATH, method="GET").respond_with_handler(self._list)
        self.server.expect_request(PERMISSIONS_PATH, method="GET").respond_with_handler(self._permissions)
        self.server.expect_request(
            re.compile(PATH + "/[^/]+$"), method="PATCH"
        ).respond_with_handler(self._patch)
        self.server.expect_request(re.compile(PATH + "/[^/]+$"), method="GET").respond_with_handler(self._get)

    def url(self) -> str:
        return self.server.url_for("").rstrip("/")

    def _authorized(self, request: Request) -> bool:
        headers = request.headers
        return headers.get("DD-API-KEY") == API_KEY and headers.get("DD-APPLICATION-KEY") == APP_KEY

    def _list(self, request: Request) -> Response:
        if not self._authorized(request):
            return _json({"errors": ["Forbidden"]}, 403)
        items = self.accounts
        body: dict[str, Any] = {"data": items}
        if self.page_size:
            start = int(request.args.get("page[cursor]", "0"))
            body["data"] = items[start:start + self.page_size]
            if start + self.page_size < len(items):
                body["links"] = {"next": f"{PATH}?page[cursor]={start + self.page_size}"}
        return _json(body)

    def _permissions(self, request: Request) -> Response:
        self.permission_requests += 1
        if not self._authorized(request):
            return _json({"errors": ["Forbidden"]}, 403)
        if self.permissions_status:
            return _json({"errors": ["Internal Server Error"]}, self.permissions_status)
        return _json({"data": {"id": "permissions", "type": "permissions",
                               "attributes": {"permissions": list(self.permissions)}}})

    def _patch(self, request: Request) -> Response:
        if not self._authorized(request):
            return _json({"errors": ["Forbidden"]}, 403)
        config_id = request.path.rsplit("/", 1)[1]
        body = json.loads(request.get_data())
        self.patches.append((config_id, body))
        if config_id in self.patch_status:
            return _json({"errors": ["Internal Server Error"]}, self.patch_status[config_id])
        for acct in self.accounts:
            if acct["id"] == config_id:
                regions = copy.deepcopy(body["data"]["attributes"]["aws_regions"])
                if isinstance(regions.get("include_only"), list):
                    regions["include_only"] = [r for r in regions["include_only"] if r not in self.unsupported_regions]
                acct["attributes"]["aws_regions"] = regions
                return _json({"data": acct})
        return _json({"errors": ["AWS account config not found"]}, 404)

    def _get(self, request: Request) -> Response:
        if not self._authorized(request):
            return _json({"errors": ["Forbidden"]}, 403)
        config_id = request.path.rsplit("/", 1)[1]
        if config_id in self.get_status:
            return _json({"errors": ["Internal Server Error"]}, self.get_status[config_id])
        for acct in self.accounts:
            if acct["id"] == config_id:
                return _json({"data": acct})
        return _json({"errors": ["AWS account config not found"]}, 404)


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


# --- results intake: metric series (v2) and events (v1) ------------------------------------------

SERIES_PATH = "/api/v2/series"
EVENTS_PATH = "/api/v1/events"


@dataclass
class FakeDatadogIntake:
    """Speaks `POST /api/v2/series` and `POST /api/v1/events` the way Datadog answers them (202), and
    records every request body that arrives (also those it then fails). `*_status` forces an error
    answer; `*_delay` makes the answer that many seconds late (a client with a shorter read timeout
    times out). Only the API key is checked: the intake endpoints take no application key."""

    server: HTTPServer
    series: list[dict[str, Any]] = field(default_factory=list)  # every series request body, in order
    events: list[dict[str, Any]] = field(default_factory=list)
    series_status: int = 0
    events_status: int = 0
    series_delay: float = 0.0
    events_delay: float = 0.0
    api_keys: list[str] = field(default_factory=list)  # the DD-API-KEY header of every request
    api_key: str = API_KEY  # the key it accepts
    application_keys: list[str] = field(default_factory=list)  # DD-APPLICATION-KEY headers that arrived

    def install(self) -> None:
        self.server.expect_request(SERIES_PATH, method="POST").respond_with_handler(self._series)
        self.server.expect_request(EVENTS_PATH, method="POST").respond_with_handler(self._event)

    def url(self) -> str:
        return self.server.url_for("").rstrip("/")

    def sent_series(self) -> list[dict[str, Any]]:
        """Every series of every request, in arrival order."""
        return [s for body in self.series for s in body.get("series", [])]

    def _received(self, request: Request, into: list[dict[str, Any]]) -> Response | None:
        self.api_keys.append(request.headers.get("DD-API-KEY", ""))
        if "DD-APPLICATION-KEY" in request.headers:
            self.application_keys.append(request.headers["DD-APPLICATION-KEY"])
        if request.headers.get("DD-API-KEY") != self.api_key:
            return _json({"errors": ["Forbidden"]}, 403)
        into.append(json.loads(_body(request)))
        return None

    def _series(self, request: Request) -> Response:
        refused = self._received(request, self.series)
        time.sleep(self.series_delay)
        if refused:
            return refused
        if self.series_status:
            return _json({"errors": ["Internal Server Error"]}, self.series_status)
        return _json({"errors": []}, 202)

    def _event(self, request: Request) -> Response:
        refused = self._received(request, self.events)
        time.sleep(self.events_delay)
        if refused:
            return refused
        if self.events_status:
            return _json({"errors": ["Internal Server Error"]}, self.events_status)
        body = self.events[-1]
        event_id = len(self.events)
        return _json({"status": "ok", "event": {
            "id": event_id, "id_str": str(event_id), "title": body.get("title", ""), "text": body.get("text", ""),
            "date_happened": body.get("date_happened", 0), "tags": body.get("tags", []),
            "url": f"https://app.datadoghq.com/event/event?id={event_id}",
        }}, 202)


@contextmanager
def threaded_server() -> Iterator[HTTPServer]:
    """A started HTTPServer that answers each request in its own thread: a slow answer (`*_delay`)
    then holds up only the request it belongs to, not the next one."""
    server = HTTPServer(threaded=True)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        server.stop()


def _body(request: Request) -> bytes:
    data = request.get_data()
    encoding = request.headers.get("Content-Encoding", "")
    if encoding == "gzip":
        return gzip.decompress(data)
    if encoding == "deflate":
        return zlib.decompress(data)
    return data
