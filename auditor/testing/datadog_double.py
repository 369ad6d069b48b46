"""A local double of Datadog's AWS integration API v2 (never the real API), for the tests."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

API_KEY = "ddapikey-0123456789abcdef0123456789abcd"
APP_KEY = "ddappkey-fedcba9876543210fedcba9876543210abcdef01"
PATH = "/api/v2/integration/aws/accounts"


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


@dataclass
class FakeDatadog:
    """Speaks GET (optionally paginated with links.next) and PATCH of the v2 AWS account configs."""

    server: HTTPServer
    accounts: list[dict[str, Any]] = field(default_factory=list)
    page_size: int = 0  # 0: one page, like the real endpoint today
    patches: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    patch_status: dict[str, int] = field(default_factory=dict)  # config id -> forced error status

    def install(self) -> None:
        self.server.expect_request(PATH, method="GET").respond_with_handler(self._list)
        self.server.expect_request(
            re.compile(PATH + "/[^/]+$"), method="PATCH"
        ).respond_with_handler(self._patch)

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
                acct["attributes"]["aws_regions"] = copy.deepcopy(body["data"]["attributes"]["aws_regions"])
                return _json({"data": acct})
        return _json({"errors": ["AWS account config not found"]}, 404)


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")
