"""config/datadog/: the monitor and the dashboard are valid Datadog API documents that reference
exactly the metric names (and tag keys) a run sends."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from datadog_api_client import ApiClient, Configuration
from datadog_api_client.model_utils import OpenApiModel
from datadog_api_client.v1.model.dashboard import Dashboard
from datadog_api_client.v1.model.monitor import Monitor

from auditor.facts.result_names import FINDINGS_NEW, OWN_TAG_KEYS
from auditor.model import Severity
from auditor.report.datadog_results import build_results

from .factory import make_result

FOLDER = Path(__file__).resolve().parents[2] / "config" / "datadog"
MONITOR = FOLDER / "new-failing-findings.monitor.json"
DASHBOARD = FOLDER / "auditor.dashboard.json"
METRIC = re.compile(r"datadog_org_auditor\.[a-z_.]*[a-z]")


def _queries(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [
            q for k, v in node.items() for q in ([v] if k in ("query", "q") and isinstance(v, str) else _queries(v))
        ]
    if isinstance(node, list):
        return [q for item in node for q in _queries(item)]
    return []


def _unparsed(model: Any, path: str = "$") -> list[str]:
    """Paths of every part the client's models could not read (a wrong type, key or value)."""
    found = [path] if getattr(model, "_unparsed", False) else []
    if isinstance(model, OpenApiModel):
        model = getattr(model, "get_oneof_instance", lambda: None)() or model
        for key, value in model._data_store.items():
            found += _unparsed(value, f"{path}.{key}")
    elif isinstance(model, list):
        for i, item in enumerate(model):
            found += _unparsed(item, f"{path}[{i}]")
    return found


@pytest.mark.parametrize(("path", "model"), [(MONITOR, Monitor), (DASHBOARD, Dashboard)])
def test_each_definition_is_read_by_the_official_clients_api_model(path: Path, model: type) -> None:
    parsed = ApiClient(Configuration()).deserialize(path.read_text(), (model,), True)
    assert isinstance(parsed, model) and _unparsed(parsed) == []


def test_the_unparsed_check_can_fail() -> None:
    data = json.loads(DASHBOARD.read_text())
    data["widgets"][-1]["definition"]["requests"][0]["display_type"] = "barz"
    assert _unparsed(ApiClient(Configuration()).deserialize(json.dumps(data), (Dashboard,), True))


def test_monitor_and_dashboard_reference_exactly_the_metric_names_sent() -> None:
    sent = {g.metric for g in build_results(make_result(), fail_on_severity="high", result_tags=(), run_dir="x").series}
    monitor, dashboard = (set(METRIC.findall(" ".join(_queries(json.loads(p.read_text())))))
                          for p in (MONITOR, DASHBOARD))
    assert dashboard == sent
    assert monitor == {FINDINGS_NEW}


def test_every_tag_key_queried_is_one_the_auditor_sets() -> None:
    for path in (MONITOR, DASHBOARD):
        for query in _queries(json.loads(path.read_text())):
            groups = [k.strip() for by in re.findall(r"by \{([^}]*)\}", query) for k in by.split(",")]
            filters = re.findall(r"([a-z_]+)(?::| IN )", query.split("{", 1)[1].split("}", 1)[0])
            assert set(groups + filters) <= set(OWN_TAG_KEYS), (path.name, query)


def test_the_monitor_fires_on_new_findings_at_or_above_high() -> None:
    monitor = json.loads(MONITOR.read_text())
    listed = re.search(r"severity IN \(([^)]*)\)", monitor["query"])
    assert listed is not None
    at_or_above_high = {s.value for s in Severity if s.rank >= Severity.HIGH.rank}
    assert {s.strip() for s in listed.group(1).split(",")} == at_or_above_high
    assert monitor["query"].endswith("> 0") and monitor["options"]["thresholds"] == {"critical": 0}
