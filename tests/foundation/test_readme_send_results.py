"""The README's Datadog results section states what a run really sends."""

import re
from pathlib import Path

from auditor.checks.catalogue import CATALOGUE
from auditor.facts.result_names import METRICS
from auditor.report.datadog_results import series_per_run

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_readme_states_the_number_of_series_a_run_sends() -> None:
    stated = re.search(r"a run sends 2 × (\d+) checks \+ 3 states \+ 2 = \*\*(\d+) series\*\*", README)
    assert stated is not None
    assert (int(stated.group(1)), int(stated.group(2))) == (len(CATALOGUE), series_per_run())


def test_readme_names_every_metric_sent() -> None:
    assert set(re.findall(r"`(datadog_org_auditor\.[a-z_.]+)`", README)) == set(METRICS)


def test_readme_lists_the_send_results_command_and_its_config_keys() -> None:
    assert "| `auditor datadog send-results --run DIR --config FILE` |" in README
    assert "`[datadog] send_results = true`" in README and "`[datadog] result_tags`" in README
