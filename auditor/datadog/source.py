"""Choose and load the expected-values source: what Datadog holds for each account.

[datadog] expected_values: "auto" (the API when DD_API_KEY and DD_APP_KEY are set, else the
CSV if one is configured, else none), "csv", "datadog_api" or "none". A source that fails
does not stop the AWS audit: it comes back as an error value, which the analysis records as the
run-level datadog_api_error finding.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from auditor.config import Config, DatadogConfig
from auditor.datadog.api import failure_text, fetch_expected_values, fetch_required_permissions, keys_from_env
from auditor.datadog.expected import load_expected_csv
from auditor.model import ExpectedValues, RequiredPermissions

log = logging.getLogger("auditor.datadog")


@dataclass(frozen=True)
class ExpectedSource:
    name: str  # "none" | "csv" | "datadog_api"
    values: dict[str, ExpectedValues] = field(default_factory=dict)
    # Why the source could not be read ("" when it was): one line naming the endpoint, never a key.
    error: str = ""
    # What the role checks hold the Datadog role to: Datadog's standard list when the API was read,
    # else the probe actions and why (None: the probe actions, nothing to say).
    permissions: RequiredPermissions | None = None


def uses_datadog_api(cfg: DatadogConfig, env: Mapping[str, str]) -> bool:
    """Whether expected values come from the API: "datadog_api", or "auto" with both keys set."""
    return cfg.expected_values == "datadog_api" or (
        cfg.expected_values == "auto" and keys_from_env(env) is not None
    )


def choose_source(cfg: Config, env: Mapping[str, str]) -> str:
    if uses_datadog_api(cfg.datadog, env):
        return "datadog_api"
    mode = cfg.datadog.expected_values
    if mode != "auto":
        return mode
    return "csv" if cfg.datadog.expected_values_csv else "none"


def load_expected_values(cfg: Config, env: Mapping[str, str]) -> ExpectedSource:
    name = choose_source(cfg, env)
    probes = cfg.regions.probe_actions
    if name == "none":
        log.info("no expected-values source: role names and external ids are not compared with Datadog")
        return ExpectedSource("none", permissions=_probes(probes, "no Datadog API source ([datadog] expected_values)"))
    if name == "csv":
        values = load_expected_csv(cfg.datadog.expected_values_csv)
        log.info("expected values for %d accounts from %s", len(values), cfg.datadog.expected_values_csv)
        return ExpectedSource("csv", values, permissions=_probes(
            probes, "the expected values come from a CSV file, not the Datadog API ([datadog] expected_values)"))
    try:
        values = fetch_expected_values(cfg.datadog, env)
    except Exception as exc:
        log.error("Datadog API: %s", exc)
        return ExpectedSource("datadog_api", {}, failure_text(exc), permissions=_probes(
            probes, "the Datadog API could not be read (see the datadog_api_error finding)"))
    log.info("expected values for %d accounts from the Datadog API", len(values))
    # Once per run, and only from an API that just answered: one more call, never a failed run.
    return ExpectedSource("datadog_api", dict(values),
                          permissions=fetch_required_permissions(cfg.datadog, env, probes))


def _probes(probe_actions: tuple[str, ...], reason: str) -> RequiredPermissions:
    return RequiredPermissions("probe_actions", probe_actions, reason)
