"""One retry policy for every call to Datadog: the official client's `ClientRetry`, subclassed to keep a cap.

The client's class already retries inside urllib3 and reads Datadog's X-RateLimit-Reset; the
subclass adds what a nightly run needs: Retry-After as well, every wait capped (a rate limit or a
long backoff cannot hang the run), backoff that starts at the first retry (1, 2, 4 s ...; urllib3
waits 0 s before the first), only the statuses worth another try, one log line per retry naming
the endpoint, and an injectable pause so tests observe the waits without sleeping. The policy is
handed to the client through `Configuration.retry_policy`; urllib3 copies it with `new()` after
every attempt, so everything it carries goes through `new()`.

Retried: connection errors and timeouts, and RETRY_STATUSES, for every method the auditor calls
(GET, PATCH, POST). PATCH is safe to repeat (the region update sends the same whole body) and so
is POST to the intake (a gauge point sent twice is the same point). After the last attempt the
final answer is handed back (raise_on_status False) so the caller can name its HTTP status.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Self
from urllib.parse import urlsplit

from datadog_api_client.rest import ClientRetry
from urllib3.exceptions import InvalidHeader
from urllib3.response import BaseHTTPResponse

log = logging.getLogger("auditor.datadog")

# Transient answers: request timeout, rate limit, and the 5xx a gateway or an overloaded server gives.
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
RATE_LIMIT_HEADERS = ("X-RateLimit-Reset", "Retry-After")  # seconds to wait, Datadog's own first


class _OwnRetryLine(logging.Filter):
    """urllib3 warns "Retrying (...) after connection broken by ..." on the root logger (stderr when
    nothing is configured); for our policy that is said once, in our words, by DatadogRetry.sleep."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        return not (args and isinstance(args[0], DatadogRetry))


class DatadogRetry(ClientRetry):
    """`attempts` calls at most; waits from the rate-limit headers, else `backoff_factor` * 2**(n-1)
    before the n-th retry, never more than `max_wait_seconds`."""

    def __init__(
        self,
        total: int | bool | None = 4,
        *,
        max_wait_seconds: float = 60.0,
        pause: Callable[[float], None] = time.sleep,
        attempts: int | None = None,
        label: str = "Datadog API",
        log_level: int = logging.WARNING,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("backoff_factor", 1.0)
        kwargs.setdefault("status_forcelist", RETRY_STATUSES)
        # urllib3's default leaves PATCH and POST out, so their timeouts would not be retried.
        kwargs.setdefault("allowed_methods", ClientRetry.DEFAULT_ALLOWED_METHODS)
        kwargs.setdefault("raise_on_status", False)
        kwargs.setdefault("redirect", False)  # the keys are never sent anywhere else
        super().__init__(total=total, **kwargs)
        self.max_wait_seconds = max_wait_seconds
        self.pause = pause
        # the configured number of calls, kept while `total` counts down in each copy
        self.attempts = attempts if attempts is not None else int(total or 0) + 1
        self.label = label
        self.log_level = log_level

    @classmethod
    def with_attempts(cls, attempts: int, **kwargs: Any) -> DatadogRetry:
        """A policy making at most `attempts` calls (the first and attempts - 1 retries)."""
        return cls(total=max(attempts, 1) - 1, **kwargs)

    def new(self, **kw: Any) -> Self:
        carried = {"max_wait_seconds": self.max_wait_seconds, "pause": self.pause, "attempts": self.attempts,
                   "label": self.label, "log_level": self.log_level}
        return super().new(**{**carried, **kw})

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        # ClientRetry would also retry 501 and 505-512, which no second try fixes.
        return method in self.DEFAULT_ALLOWED_METHODS and status_code in (self.status_forcelist or ())

    def get_retry_after(self, response: BaseHTTPResponse) -> float | None:
        """Seconds the answer asks us to wait (X-RateLimit-Reset, else Retry-After), capped; None if neither
        header holds a usable value."""
        for name in RATE_LIMIT_HEADERS:
            value = response.headers.get(name)
            if value is None:
                continue
            try:
                seconds = float(value)
            except ValueError:
                try:  # Retry-After may be an HTTP date
                    seconds = self.parse_retry_after(value)
                except InvalidHeader:
                    continue
            return min(max(seconds, 0.0), self.max_wait_seconds)
        return None

    def get_backoff_time(self) -> float:
        """backoff_factor * 2**(n-1) before the n-th retry (urllib3 waits 0 s before the first), capped."""
        retries = len(self.history)
        if retries < 1:
            return 0.0
        return float(min(self.backoff_factor * 2 ** (retries - 1), self.backoff_max, self.max_wait_seconds))

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        wait = self.get_retry_after(response) if response is not None else None
        if wait is None:
            wait = self.get_backoff_time()
        if self.history:
            last = self.history[-1]
            why = f"HTTP {last.status}" if last.status else type(last.error).__name__
            log.log(self.log_level, "%s %s %s: %s, retrying in %.1fs (attempt %d/%d)", self.label, last.method,
                    urlsplit(last.url or "").path, why, wait, len(self.history), self.attempts)
        self.pause(wait)


logging.getLogger("urllib3.connectionpool").addFilter(_OwnRetryLine())
