"""Send a run's results to Datadog: gauge series and one event, through the official client.

Thin I/O. The payload arrives as plain data (built by report/datadog_results.py); this module only
turns it into `MetricsApi.submit_metrics` (v2, `POST /api/v2/series`) and `EventsApi.create_event`
(v1, `POST /api/v1/events`: it takes `alert_type` error/warning/success as the run's verdict and,
like the series intake, needs only the API key). Retries and timeouts are the client's own: the
auditor's one Datadog retry policy (retry.py: 408/429/5xx and timeouts, honours X-RateLimit-Reset
and Retry-After, every wait capped) and `request_timeout`.
A failure never raises: it comes back as a `PartOutcome` naming Datadog, the endpoint and the HTTP
status; no message ever holds a key.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

import urllib3
from datadog_api_client import ApiClient, Configuration
from datadog_api_client.exceptions import ApiException, ApiValueError, OpenApiException
from datadog_api_client.v1.api.events_api import EventsApi
from datadog_api_client.v1.model.event_alert_type import EventAlertType
from datadog_api_client.v1.model.event_create_request import EventCreateRequest
from datadog_api_client.v2.api.metrics_api import MetricsApi
from datadog_api_client.v2.model.metric_intake_type import MetricIntakeType
from datadog_api_client.v2.model.metric_payload import MetricPayload
from datadog_api_client.v2.model.metric_point import MetricPoint
from datadog_api_client.v2.model.metric_series import MetricSeries

from auditor.datadog.client_support import client_message, client_too_old, is_unstable_disabled
from auditor.datadog.retry import DatadogRetry

log = logging.getLogger("auditor.datadog")

SERIES_ENDPOINT = "POST /api/v2/series"
EVENTS_ENDPOINT = "POST /api/v1/events"
# (connect, read) seconds per attempt, retries after the first attempt, and the longest wait between
# two (a rate-limit header included). Worst case for one call: 4 attempts x 40 s plus backoff
# (2 + 4 + 8 s) ~ 3 minutes; read at call time so tests can shorten them.
TIMEOUT: tuple[float, float] = (10.0, 30.0)
MAX_RETRIES = 3
BACKOFF_FACTOR = 2.0
BACKOFF_MAX = 30.0


@dataclass(frozen=True)
class Gauge:
    metric: str
    value: float
    tags: tuple[str, ...]


@dataclass(frozen=True)
class ResultEvent:
    title: str  # at most 100 characters (Datadog's limit)
    text: str  # at most 4000 characters (Datadog's limit)
    alert_type: str  # "error" | "warning" | "success"
    tags: tuple[str, ...]
    aggregation_key: str  # groups a organization's run events in Datadog's event explorer


@dataclass(frozen=True)
class ResultPayload:
    series: tuple[Gauge, ...]
    event: ResultEvent


@dataclass(frozen=True)
class PartOutcome:
    """How one call ended: sent, or the error (naming Datadog, the endpoint and the status)."""

    sent: bool
    error: str = ""
    status: int | None = None  # HTTP status of the last answer; None when there was none

    def as_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {"sent": self.sent}
        if not self.sent:
            record.update(error=self.error, status=self.status)
        return record


@dataclass(frozen=True)
class SendOutcome:
    metrics: PartOutcome
    event: PartOutcome
    series: int  # series in the payload

    @property
    def sent(self) -> bool:
        return self.metrics.sent and self.event.sent

    def errors(self) -> list[str]:
        return [p.error for p in (self.metrics, self.event) if not p.sent]


class ResultsSender:
    """The two calls, with the client's retry policy and timeouts; the key only in its headers."""

    def __init__(self, url: str, api_key: str, *, timeout: tuple[float, float] | None = None,
                 max_retries: int | None = None, backoff_factor: float | None = None) -> None:
        self.url = url.rstrip("/")
        self._secret = api_key
        conf = Configuration(host=self.url, api_key={"apiKeyAuth": api_key})
        # Configuration() also picks DD_APP_KEY up from the environment, but both endpoints
        # authenticate with the API key alone, so the client does not send it (a test holds this).
        conf.request_timeout = timeout or TIMEOUT
        # The one Datadog policy; it hands back the last error response so the warning can name its
        # HTTP status. Retries are logged at INFO: a failed send is one warning (commands/datadog_send).
        conf.retry_policy = DatadogRetry(
            total=MAX_RETRIES if max_retries is None else max_retries,
            backoff_factor=BACKOFF_FACTOR if backoff_factor is None else backoff_factor,
            max_wait_seconds=BACKOFF_MAX,
            label="Datadog",
            log_level=logging.INFO,
        )
        self._client = ApiClient(conf)
        self._metrics = MetricsApi(self._client)
        self._events = EventsApi(self._client)
        logging.getLogger("datadog_api_client.rest").setLevel(logging.INFO)  # no bodies in a DEBUG log

    def __repr__(self) -> str:  # never show the key
        return f"ResultsSender(url={self.url!r})"

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, payload: ResultPayload, timestamp: int) -> SendOutcome:
        """Series first, then the event (each tried even if the other failed); `timestamp` in epoch seconds."""
        metrics = self._part(SERIES_ENDPOINT, lambda: self._metrics.submit_metrics(_metric_payload(payload, timestamp)))
        event = self._part(EVENTS_ENDPOINT, lambda: self._events.create_event(_event_request(payload.event, timestamp)))
        return SendOutcome(metrics, event, len(payload.series))

    def _part(self, endpoint: str, call: Any) -> PartOutcome:
        where = f"Datadog {endpoint} at {self.url}"
        if client_too_old():  # it would ignore the retry policy, or lack the call
            return PartOutcome(False, client_message(where))
        try:
            call()
        except ApiException as exc:
            status = int(exc.status or 0) or None
            detail = _error_text(exc.body)
            msg = f"{where} failed with HTTP {status}: {_hint(status)}" + (f" ({detail})" if detail else "")
            return PartOutcome(False, self._scrub(msg)[:500], status)
        except urllib3.exceptions.MaxRetryError as exc:
            reason = type(exc.reason).__name__ if exc.reason is not None else "no answer"
            return PartOutcome(False, f"{where}: no answer ({reason})")
        except urllib3.exceptions.HTTPError as exc:
            return PartOutcome(False, f"{where}: no answer ({type(exc).__name__})")
        except ApiValueError as exc:  # the client refused the call before sending it
            if is_unstable_disabled(exc):
                return PartOutcome(False, client_message(where))
            return PartOutcome(False, self._scrub(f"{where}: request refused by the client: {exc}")[:500])
        except OpenApiException as exc:  # an answer that did not fit the API's schema
            return PartOutcome(False, self._scrub(f"{where}: unexpected answer: {exc}")[:500])
        return PartOutcome(True)

    def _scrub(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text


def _metric_payload(payload: ResultPayload, timestamp: int) -> MetricPayload:
    return MetricPayload(series=[
        MetricSeries(metric=g.metric, type=MetricIntakeType.GAUGE, tags=list(g.tags),
                     points=[MetricPoint(timestamp=timestamp, value=float(g.value))])
        for g in payload.series
    ])


def _event_request(event: ResultEvent, timestamp: int) -> EventCreateRequest:
    return EventCreateRequest(
        title=event.title,
        text=event.text,
        alert_type=EventAlertType(event.alert_type),
        tags=list(event.tags),
        aggregation_key=event.aggregation_key,
        date_happened=timestamp,
    )


def _hint(status: int | None) -> str:
    return {
        400: "Datadog rejected the payload",
        403: "the API key is not valid for this Datadog site",
        408: "request timeout",
        413: "payload too large",
        429: "rate limited",
    }.get(status or 0, "server error" if (status or 0) >= 500 else "request failed")


def _error_text(body: Any) -> str:
    if isinstance(body, Mapping) and isinstance(body.get("errors"), list):
        return "; ".join(str(e) for e in body["errors"])[:300]
    return ""
