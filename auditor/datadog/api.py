"""What Datadog holds for each AWS account, read (and region lists written) through Datadog's API v2.

Transport is the official `datadog-api-client`, with its own retry configured by retry.py (bounded,
capped waits that honour Datadog's rate-limit headers); this module adds errors that name the
endpoint (never the keys), JSON:API pagination, and the translation into `ExpectedValues`.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from functools import partial
from typing import Any, Self, TypeVar
from urllib.parse import parse_qsl, urljoin, urlsplit

import urllib3
from datadog_api_client import ApiClient, Configuration
from datadog_api_client.exceptions import ApiException, ApiValueError, OpenApiException

try:  # a client older than the pin lacks these: say so when the API is used, not at import
    from datadog_api_client.v2.api.aws_integration_api import AWSIntegrationApi
    from datadog_api_client.v2.model.aws_account_type import AWSAccountType
    from datadog_api_client.v2.model.aws_account_update_request import AWSAccountUpdateRequest
    from datadog_api_client.v2.model.aws_account_update_request_attributes import (
        AWSAccountUpdateRequestAttributes,
    )
    from datadog_api_client.v2.model.aws_account_update_request_data import AWSAccountUpdateRequestData
    from datadog_api_client.v2.model.aws_accounts_response import AWSAccountsResponse
    from datadog_api_client.v2.model.aws_regions_include_only import AWSRegionsIncludeOnly

    CLIENT_IMPORT_ERROR: ImportError | None = None
except ImportError as exc:  # pragma: no cover - only with a client older than pyproject's floor
    CLIENT_IMPORT_ERROR = exc

from auditor.config import DatadogConfig
from auditor.datadog.client_support import client_message, client_too_old, is_unstable_disabled
from auditor.datadog.retry import RETRY_STATUSES, DatadogRetry
from auditor.model import ExpectedValues, RequiredPermissions

log = logging.getLogger("auditor.datadog")

SOURCE = "datadog_api"
ACCOUNTS_PATH = "/api/v2/integration/aws/accounts"
PERMISSIONS_PATH = "/api/v2/integration/aws/iam_permissions/standard"
MAX_PERMISSIONS = 5000  # Datadog's list has about a hundred; far more is not a permission list
_PERMISSION = re.compile(r"[A-Za-z0-9-]{1,64}:[A-Za-z0-9*?_.-]{1,128}")
MAX_PAGES = 1000  # a guard against a server whose `links.next` never ends

# account id -> what Datadog holds for it
DatadogAccounts = dict[str, ExpectedValues]

T = TypeVar("T")


class DatadogApiError(RuntimeError):
    """A Datadog API call failed for good. The message names the endpoint, never the keys."""

    def __init__(self, message: str, *, status: int | None = None, endpoint: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.endpoint = endpoint


def failure_text(exc: BaseException) -> str:
    """One line for a failed read: a DatadogApiError's message already names the endpoint (never the
    keys); anything else is named by its type so an unexpected failure is still recognisable."""
    return str(exc) if isinstance(exc, DatadogApiError) else f"{type(exc).__name__}: {exc}"


def keys_from_env(env: Mapping[str, str]) -> tuple[str, str] | None:
    """(api key, app key) when both are set and non-blank, else None."""
    api_key, app_key = env.get("DD_API_KEY", "").strip(), env.get("DD_APP_KEY", "").strip()
    return (api_key, app_key) if api_key and app_key else None


def base_url(cfg: DatadogConfig, env: Mapping[str, str]) -> str:
    """[datadog] api_url, else https://api.<site>; DD_SITE counts when the config keeps the default site."""
    if cfg.api_url:
        return cfg.api_url.rstrip("/")
    site = cfg.site
    if site == DatadogConfig.site and env.get("DD_SITE", "").strip():
        site = env["DD_SITE"].strip()
    return f"https://api.{site}"


class DatadogApi:
    """The AWS integration calls the auditor makes: list the account configs, read one back, set an
    account's regions."""

    def __init__(
        self,
        url: str,
        api_key: str,
        app_key: str,
        *,
        timeout: tuple[float, float] = (10.0, 30.0),
        max_attempts: int = 5,
        backoff_seconds: float = 1.0,
        max_wait_seconds: float = 60.0,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        if CLIENT_IMPORT_ERROR is not None or client_too_old():
            raise DatadogApiError(client_message(f"Datadog API at {self.url}"))
        self._secrets = (api_key, app_key)
        self._timeout = timeout
        self._max_attempts = max_attempts
        # `sleep`: how the retry policy waits (tests pass a recorder); the policy computes the waits.
        self._retry: dict[str, Any] = {"backoff_factor": backoff_seconds, "max_wait_seconds": max_wait_seconds,
                                       **({"pause": sleep} if sleep is not None else {})}
        self._client, self._api = self._connect(DatadogRetry.with_attempts(max_attempts, **self._retry))
        # The client logs whole response bodies at DEBUG: they hold external ids.
        logging.getLogger("datadog_api_client.rest").setLevel(logging.INFO)

    def _connect(self, retry: DatadogRetry) -> tuple[ApiClient, AWSIntegrationApi]:
        api_key, app_key = self._secrets
        conf = Configuration(host=self.url, api_key={"apiKeyAuth": api_key, "appKeyAuth": app_key})
        conf.request_timeout = self._timeout
        conf.retry_policy = retry  # urllib3 retries inside the call; _call maps the final outcome
        client = ApiClient(conf)
        return client, AWSIntegrationApi(client)

    @classmethod
    def from_config(cls, cfg: DatadogConfig, env: Mapping[str, str], **kwargs: Any) -> DatadogApi:
        keys = keys_from_env(env)
        if keys is None:
            raise DatadogApiError(
                "Datadog API: DD_API_KEY and DD_APP_KEY must both be set in the environment "
                "to read the AWS integration from Datadog"
            )
        return cls(base_url(cfg, env), *keys, **kwargs)

    def __repr__(self) -> str:  # never show the keys
        return f"DatadogApi(url={self.url!r})"

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- calls ---------------------------------------------------------------------

    def list_accounts(self) -> list[ExpectedValues]:
        """Every AWS account config in Datadog, following `links.next` if the server paginates."""
        endpoint = f"GET {ACCOUNTS_PATH}"
        page = self._call(endpoint, lambda: self._api.list_aws_accounts().to_dict())
        items = list(page.get("data") or [])
        seen: set[str] = set()
        while next_link := (page.get("links") or {}).get("next"):
            path, query = self._same_host_path(next_link, endpoint)
            if next_link in seen or len(seen) >= MAX_PAGES:
                raise DatadogApiError(f"Datadog API {endpoint}: pagination does not end ({path})",
                                      endpoint=endpoint)
            seen.add(next_link)
            page = self._call(endpoint, partial(self._get_page, path, query))
            items.extend(page.get("data") or [])
        return [_expected_values(item, endpoint) for item in items]

    def get_account(self, config_id: str) -> ExpectedValues:
        """One AWS account config as Datadog stores it (`GET .../accounts/{config_id}`): the read-back."""
        endpoint = f"GET {ACCOUNTS_PATH}/{config_id}"
        page = self._call(endpoint, lambda: self._api.get_aws_account(config_id).to_dict())
        item = page.get("data")
        if not isinstance(item, Mapping):
            raise DatadogApiError(f"Datadog API {endpoint}: the answer holds no account config", endpoint=endpoint)
        return _expected_values(item, endpoint)

    def update_regions(self, config_id: str, aws_account_id: str, include_only: Sequence[str]) -> None:
        """PATCH the account config so Datadog collects only from `include_only`."""
        endpoint = f"PATCH {ACCOUNTS_PATH}/{config_id}"
        body = AWSAccountUpdateRequest(
            data=AWSAccountUpdateRequestData(
                type=AWSAccountType.ACCOUNT,
                attributes=AWSAccountUpdateRequestAttributes(
                    aws_account_id=aws_account_id,
                    aws_regions=AWSRegionsIncludeOnly(include_only=list(include_only)),
                ),
            )
        )
        self._call(endpoint, lambda: self._api.update_aws_account(config_id, body))

    def standard_permissions(self) -> tuple[str, ...]:
        """Datadog's published list of the IAM permissions its AWS integration needs (the one its
        CloudFormation templates use). At most two attempts, retries logged at INFO: the list is
        optional (the run falls back to the probe actions), so it never holds the run up for long."""
        endpoint = f"GET {PERMISSIONS_PATH}"
        attempts = min(2, self._max_attempts)
        client, api = self._connect(DatadogRetry.with_attempts(attempts, log_level=logging.INFO, **self._retry))
        with client:
            page = self._call(endpoint, lambda: api.get_aws_integration_iam_permissions_standard().to_dict(),
                              attempts=attempts)
        permissions = ((page.get("data") or {}).get("attributes") or {}).get("permissions")
        if not isinstance(permissions, list) or not permissions:
            raise DatadogApiError(f"Datadog API {endpoint}: the answer holds no permission list", endpoint=endpoint)
        if len(permissions) > MAX_PERMISSIONS:
            raise DatadogApiError(f"Datadog API {endpoint}: {len(permissions)} permissions (more than "
                                  f"{MAX_PERMISSIONS}): not used", endpoint=endpoint)
        bad = [p for p in permissions if not isinstance(p, str) or not _PERMISSION.fullmatch(p)]
        if bad:
            raise DatadogApiError(f"Datadog API {endpoint}: {len(bad)} entries are not 'service:action' "
                                  f"(first: {str(bad[0])[:80]!r}): the list is not used", endpoint=endpoint)
        return tuple(permissions)

    # --- plumbing ------------------------------------------------------------------

    def _get_page(self, path: str, query: list[tuple[str, str]]) -> dict[str, Any]:
        headers: dict[str, str] = {"Accept": "application/json"}
        for auth in self._client.configuration.auth_settings().values():
            if (auth.get("in") == "header" and auth.get("value")
                    and auth.get("key") in ("DD-API-KEY", "DD-APPLICATION-KEY")):
                headers[auth["key"]] = auth["value"]
        resp = self._client.call_api(path, "GET", query_params=query, header_params=headers,
                                     response_type=(AWSAccountsResponse,), return_http_data_only=True,
                                     check_type=True, request_timeout=self._client.configuration.request_timeout)
        return resp.to_dict()

    def _same_host_path(self, link: str, endpoint: str) -> tuple[str, list[tuple[str, str]]]:
        """Path and query of a `links.next`; the keys are only ever sent to our own host."""
        target, ours = urlsplit(urljoin(self.url + "/", link)), urlsplit(self.url)
        if (target.scheme, target.netloc) != (ours.scheme, ours.netloc):
            raise DatadogApiError(f"Datadog API {endpoint}: next page is on another host ({target.netloc}); "
                                  "not followed", endpoint=endpoint)
        return target.path, parse_qsl(target.query, keep_blank_values=True)

    def _call(self, endpoint: str, fn: Callable[[], T], *, attempts: int = 0) -> T:
        """`fn()` (the client retries inside it), its final failure as one DatadogApiError."""
        attempts = attempts or self._max_attempts
        try:
            return fn()
        except ApiException as exc:
            status = int(exc.status or 0)
            # urllib3 hands a retried status back only once every attempt is used
            raise self._error(endpoint, status, exc, attempts if status in RETRY_STATUSES else 1) from None
        except urllib3.exceptions.MaxRetryError as exc:  # no answer to any attempt
            reason = type(exc.reason).__name__ if exc.reason is not None else "no answer"
            raise DatadogApiError(
                f"Datadog API {endpoint} at {self.url}: no answer after {attempts} attempts ({reason})",
                endpoint=endpoint,
            ) from None
        except urllib3.exceptions.HTTPError as exc:  # an error urllib3 does not retry
            raise DatadogApiError(
                f"Datadog API {endpoint} at {self.url}: no answer ({type(exc).__name__})", endpoint=endpoint
            ) from None
        except ApiValueError as exc:
            if is_unstable_disabled(exc):
                raise DatadogApiError(client_message(f"Datadog API {endpoint}"), endpoint=endpoint) from None
            raise DatadogApiError(
                f"Datadog API {endpoint}: request refused by the client: {self._scrub(str(exc))[:300]}",
                endpoint=endpoint,
            ) from None
        except OpenApiException as exc:  # the response did not fit the API's schema
            raise DatadogApiError(
                f"Datadog API {endpoint}: unexpected response: {self._scrub(str(exc))[:300]}",
                endpoint=endpoint,
            ) from None
        except (TypeError, ValueError) as exc:  # the client raises these on some answers that break its schema
            raise DatadogApiError(
                f"Datadog API {endpoint}: unexpected response ({type(exc).__name__}: {self._scrub(str(exc))[:300]})",
                endpoint=endpoint,
            ) from None

    def _error(self, endpoint: str, status: int, exc: ApiException, attempts: int) -> DatadogApiError:
        hint = {
            401: "the API key or application key is not valid for this site",
            403: "the application key lacks permission (needs aws_configuration_read, "
            "and aws_configuration_edit to change regions)",
            404: "not found",
            429: "rate limited",
        }.get(status, "server error" if status >= 500 else "request failed")
        detail = _error_text(exc.body)
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        msg = f"Datadog API {endpoint} at {self.url} failed with HTTP {status}{tries}: {hint}"
        if detail:
            msg += f" ({self._scrub(detail)[:300]})"
        return DatadogApiError(msg, status=status, endpoint=endpoint)

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def _error_text(body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        return "; ".join(str(e) for e in body["errors"])
    return ""


def _expected_values(item: Mapping[str, Any], endpoint: str) -> ExpectedValues:
    """One account config as the auditor uses it. Datadog's answer is untrusted input: a field of the
    wrong type (a number in include_only, a list as role name) is one DatadogApiError naming the config
    and the field, not a TypeError deep in the checks or the writers that loses the run."""
    config = item.get("id")

    def bad(field: str, value: Any, expected: str) -> DatadogApiError:  # the type only: it may hold an external id
        return DatadogApiError(f"Datadog API {endpoint}: account config {str(config)[:80]!r}: {field} is "
                               f"{type(value).__name__}, not {expected}", endpoint=endpoint)

    def mapping(value: Any, field: str) -> Mapping[str, Any]:
        if value is not None and not isinstance(value, Mapping):
            raise bad(field, value, "an object")
        return value or {}

    def text(value: Any, field: str) -> str | None:
        if value is not None and not isinstance(value, str):
            raise bad(field, value, "a string")
        return value

    attrs = mapping(item.get("attributes"), "attributes")
    raw_id = attrs.get("aws_account_id")
    if isinstance(raw_id, bool) or not isinstance(raw_id, str | int | None):
        raise bad("aws_account_id", raw_id, "an account id")
    account_id = str(raw_id or "")
    if not account_id:
        raise DatadogApiError(
            f"Datadog API {endpoint}: account config {config!r} has no aws_account_id",
            endpoint=endpoint,
        )
    auth = mapping(attrs.get("auth_config"), "auth_config")
    include_all: bool | None = True  # no aws_regions: the API's documented default
    include_only: tuple[str, ...] = ()
    if attrs.get("aws_regions") is not None:
        regions, include_all = mapping(attrs["aws_regions"], "aws_regions"), None
        if "include_only" in regions:
            listed = regions.get("include_only") or []
            odd = [r for r in listed if not isinstance(r, str)] if isinstance(listed, list) else [listed]
            if odd:
                raise bad("aws_regions.include_only (or an item)", odd[0], "a list of region names")
            include_all, include_only = False, tuple(listed)
        elif "include_all" in regions:
            if not isinstance(regions["include_all"], bool):
                raise bad("aws_regions.include_all", regions["include_all"], "true or false")
            include_all = regions["include_all"]
    # auth_config is a role (role_name, external_id) or access keys (access_key_id and a secret we never read).
    access_key_id = text(auth.get("access_key_id"), "auth_config.access_key_id") or None
    role_name = text(auth.get("role_name"), "auth_config.role_name")
    external_id = text(auth.get("external_id"), "auth_config.external_id")
    return ExpectedValues(
        account_id=account_id,
        role_name=None if access_key_id else role_name,
        external_id=None if access_key_id else external_id,
        partition=text(attrs.get("aws_partition"), "aws_partition") or "aws",
        regions_include_all=include_all,
        regions_include_only=include_only,
        source=SOURCE,
        datadog_config_id=str(config or ""),
        access_key_id=access_key_id,
    )


def by_account(values: Sequence[ExpectedValues]) -> DatadogAccounts:
    """Account id -> its first config in Datadog's order, the others' ids in `other_config_ids`: the one
    rule for an AWS account Datadog holds in several configs (the run, the patches and sync-regions)."""
    grouped: dict[str, list[ExpectedValues]] = {}
    for ev in values:
        grouped.setdefault(ev.account_id, []).append(ev)
    accounts: DatadogAccounts = {}
    for account_id, (first, *others) in grouped.items():
        if others:
            log.warning("Datadog holds AWS account %s in %d account configs (%s); the first is audited, none "
                        "is changed", account_id, 1 + len(others),
                        ", ".join(ev.datadog_config_id for ev in (first, *others)))
        accounts[account_id] = replace(first, other_config_ids=tuple(ev.datadog_config_id for ev in others))
    return accounts


def fetch_expected_values(
    cfg: DatadogConfig, env: Mapping[str, str] | None = None, **client_kwargs: Any
) -> DatadogAccounts:
    """Account id -> what Datadog holds for it. Raises DatadogApiError (keys missing, API failure)."""
    env = os.environ if env is None else env
    with DatadogApi.from_config(cfg, env, **client_kwargs) as api:
        accounts = by_account(api.list_accounts())
    log.info("Datadog API: %d AWS account configs read from %s", len(accounts), base_url(cfg, env))
    return accounts


def fetch_required_permissions(
    cfg: DatadogConfig, env: Mapping[str, str], probe_actions: Sequence[str], **client_kwargs: Any
) -> RequiredPermissions:
    """Datadog's standard permission list; on any failure the probe actions, with ONE warning naming
    Datadog, the endpoint and the status. Never raises: the list only sharpens the role checks."""
    try:
        with DatadogApi.from_config(cfg, env, **client_kwargs) as api:
            permissions = api.standard_permissions()
    except Exception as exc:  # the client raises plain TypeErrors on some answers that break its schema
        why = str(exc) if isinstance(exc, DatadogApiError) else (
            f"Datadog API GET {PERMISSIONS_PATH}: unexpected response ({type(exc).__name__})")
        log.warning("%s; the role's permissions are checked against [regions] probe_actions instead", why)
        return RequiredPermissions("probe_actions", tuple(probe_actions), why)
    log.info("Datadog API: the standard permission list has %d entries", len(permissions))
    return RequiredPermissions("datadog", permissions)
