"""The results sender against the local intake double: what arrives, and how a failure comes back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from auditor.datadog.intake import Gauge, ResultEvent, ResultPayload, ResultsSender
from tests.doubles.datadog_double import API_KEY, APP_KEY, FakeDatadogIntake, threaded_server

PAYLOAD = ResultPayload(
    series=(
        Gauge("datadog_org_auditor.findings.failing", 3, ("check:role_missing", "severity:high", "aws_org_id:o-1")),
        Gauge("datadog_org_auditor.run.complete", 1, ("aws_org_id:o-1",)),
    ),
    event=ResultEvent("Datadog org auditor o-1: 1 new", "New failing findings:\n- x", "error",
                      ("aws_org_id:o-1", "env:prod"), "datadog_org_auditor:o-1"),
)
NOW = 1_780_000_000


@pytest.fixture
def intake() -> Iterator[FakeDatadogIntake]:
    with threaded_server() as server:
        fake = FakeDatadogIntake(server)
        fake.install()
        yield fake


def _sender(intake: FakeDatadogIntake, key: str = API_KEY, **kwargs: object) -> ResultsSender:
    kwargs.setdefault("max_retries", 1)
    kwargs.setdefault("backoff_factor", 0.0)
    return ResultsSender(intake.url(), key, **kwargs)  # type: ignore[arg-type]


def test_series_and_event_arrive_as_gauges_stamped_with_the_send_time(intake: FakeDatadogIntake) -> None:
    with _sender(intake) as sender:
        outcome = sender.send(PAYLOAD, NOW)
    assert outcome.sent and outcome.errors() == [] and outcome.series == 2
    assert intake.sent_series() == [
        {"metric": "datadog_org_auditor.findings.failing", "type": 3, "points": [{"timestamp": NOW, "value": 3.0}],
         "tags": ["check:role_missing", "severity:high", "aws_org_id:o-1"]},
        {"metric": "datadog_org_auditor.run.complete", "type": 3, "points": [{"timestamp": NOW, "value": 1.0}],
         "tags": ["aws_org_id:o-1"]},
    ]
    assert intake.events == [{"title": PAYLOAD.event.title, "text": PAYLOAD.event.text, "alert_type": "error",
                              "tags": ["aws_org_id:o-1", "env:prod"], "aggregation_key": "datadog_org_auditor:o-1",
                              "date_happened": NOW}]


def test_a_500_from_the_series_endpoint_is_retried_then_reported_with_its_status(intake: FakeDatadogIntake) -> None:
    intake.series_status = 500
    with _sender(intake, max_retries=2) as sender:
        outcome = sender.send(PAYLOAD, NOW)
    assert len(intake.series) == 3  # the first attempt and the client's two retries
    assert not outcome.sent and outcome.metrics.status == 500
    assert outcome.metrics.error.startswith(f"Datadog POST /api/v2/series at {intake.url()} failed with HTTP 500")
    assert outcome.event.sent and len(intake.events) == 1  # the event is still tried


def test_a_slow_series_endpoint_times_out_and_is_reported_as_no_answer(intake: FakeDatadogIntake) -> None:
    intake.series_delay = 0.6
    with _sender(intake, timeout=(1.0, 0.2), max_retries=1) as sender:
        outcome = sender.send(PAYLOAD, NOW)
    assert len(intake.series) == 2  # a timeout is retried by the client too
    assert not outcome.metrics.sent and outcome.metrics.status is None
    assert outcome.metrics.error == f"Datadog POST /api/v2/series at {intake.url()}: no answer (ReadTimeoutError)"
    assert outcome.event.sent


def test_a_wrong_key_is_a_403_naming_datadog_and_never_the_key(intake: FakeDatadogIntake) -> None:
    wrong = "ddapikey-wrongwrongwrongwrong0000"
    with _sender(intake, key=wrong) as sender:
        outcome = sender.send(PAYLOAD, NOW)
    assert (outcome.metrics.status, outcome.event.status) == (403, 403)
    assert "HTTP 403: the API key is not valid for this Datadog site" in outcome.metrics.error
    assert all(wrong not in e for e in outcome.errors()) and wrong not in repr(sender)
    assert len(intake.series) == 0 and intake.api_keys == [wrong, wrong]  # a 403 is not retried


def test_nothing_listening_is_reported_as_no_answer() -> None:
    with ResultsSender("http://127.0.0.1:9", API_KEY, max_retries=0, timeout=(0.5, 0.5)) as sender:
        outcome = sender.send(PAYLOAD, NOW)
    assert not outcome.sent
    assert outcome.metrics.error.startswith("Datadog POST /api/v2/series at http://127.0.0.1:9: no answer (")


def test_the_application_key_is_not_sent_even_when_set_in_the_environment(
    intake: FakeDatadogIntake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DD_APP_KEY", APP_KEY)
    with _sender(intake) as sender:
        assert sender.send(PAYLOAD, NOW).sent
    assert intake.application_keys == [] and intake.api_keys == [API_KEY, API_KEY]
