"""TOML config -> frozen dataclasses, validated before any AWS call.

Every section is a dataclass; its fields are the allowed keys, their annotations the allowed
types, and `_check_*` functions the allowed values. A wrong key, type or value raises
ConfigError naming `[section] key`, what was found and what is allowed.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import stat
import tomllib
import types
import typing
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any

from auditor.config_bounds import check_aws_names, check_bounds
from auditor.facts.result_names import OWN_TAG_KEYS
from auditor.facts.sites import DEFAULT_ROLE_NAME, SITES

ACCOUNT_ID = re.compile(r"^\d{12}$")
OU_ID = re.compile(r"^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$")
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
ACTION = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9*?]+$")
SEVERITIES = ("critical", "high", "medium", "low", "info")

DEFAULT_PROBE_ACTIONS: tuple[str, ...] = (
    "cloudwatch:GetMetricData",
    "cloudwatch:ListMetrics",
    "ec2:DescribeInstances",
    "tag:GetResources",
    "logs:DescribeLogGroups",
    "rds:DescribeDBInstances",
    "lambda:ListFunctions",
)


class ConfigError(ValueError):
    """A config problem, with the file and key it is about."""


@dataclass(frozen=True)
class OrganizationConfig:
    # Role the auditor assumes in each member account (read-only audit role).
    audit_role_name: str = "DatadogIntegrationAuditor"
    audit_role_external_id: str = ""
    audit_role_path: str = "/"
    session_name: str = "datadog-auditor"
    audit_management_account: bool = True
    include_ous: tuple[str, ...] = ()  # OU ids or paths ("Root/Prod"); subtree included
    exclude_ous: tuple[str, ...] = ()
    include_accounts: tuple[str, ...] = ()
    exclude_accounts: tuple[str, ...] = ()


@dataclass(frozen=True)
class DatadogConfig:
    site: str = "datadoghq.com"
    role_name: str = DEFAULT_ROLE_NAME
    api_url: str = ""  # overrides https://api.<site>
    # Where the role name and external id Datadog holds come from:
    # "auto" (API when DD_API_KEY and DD_APP_KEY are set, else the CSV if given), "csv",
    # "datadog_api", "none".
    expected_values: str = "auto"
    expected_values_csv: str = ""
    show_external_ids: bool = False
    report_unmonitored_accounts: bool = True
    sync_max_run_age_hours: float = 24.0
    # Send each run's results (metrics and one event) to Datadog after the run folder is written.
    send_results: bool = False
    result_tags: tuple[str, ...] = ()  # extra tags on every series and the event, e.g. "env:prod"


@dataclass(frozen=True)
class RegionsConfig:
    audited: tuple[str, ...] = ()  # empty: every region botocore knows for the partition
    probe_actions: tuple[str, ...] = DEFAULT_PROBE_ACTIONS
    exclude_partial: bool = True  # `partial` regions go to the exclusion list too


@dataclass(frozen=True)
class RunConfig:
    workers: int = 32
    max_attempts: int = 8  # botocore adaptive retry mode
    connect_timeout_seconds: float = 10.0
    read_timeout_seconds: float = 30.0
    account_timeout_seconds: float = 300.0
    run_timeout_seconds: float = 3 * 3600.0
    fail_on_severity: str = "high"  # exit 1 when a failing finding is at or above this
    home_region: str = ""  # region for STS/Organizations calls; empty: the partition's default


@dataclass(frozen=True)
class OutputConfig:
    directory: str = "reports"
    keep_runs: int = 30  # run folders kept; older ones are deleted after a run
    lock: str = "wait"  # "wait" for an overlapping run to finish, or "fail" at once
    lock_timeout_seconds: float = 3600.0


@dataclass(frozen=True)
class LoggingConfig:
    file: str = "auditor.log"  # relative paths are under the output directory
    level: str = "INFO"
    max_bytes: int = 10 * 1024 * 1024
    backup_count: int = 7


@dataclass(frozen=True)
class Config:
    organization: OrganizationConfig = field(default_factory=OrganizationConfig)
    datadog: DatadogConfig = field(default_factory=DatadogConfig)
    regions: RegionsConfig = field(default_factory=RegionsConfig)
    run: RunConfig = field(default_factory=RunConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    source: str = "<defaults>"

    @property
    def digest(self) -> str:
        """Stable digest of the effective settings (secrets included only as a hash)."""
        blob = json.dumps(as_dict(self, mask_secrets=True), sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


_SECTION_TYPES = {
    "organization": OrganizationConfig,
    "datadog": DatadogConfig,
    "regions": RegionsConfig,
    "run": RunConfig,
    "output": OutputConfig,
    "logging": LoggingConfig,
}
_SECRET_KEYS = {("organization", "audit_role_external_id")}


def load_config(path: str | Path) -> Config:
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read config file: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from None
    cfg = config_from_dict(data, source=str(p))
    _check_secret_file_mode(p, cfg)
    return cfg


def _check_secret_file_mode(path: Path, cfg: Config) -> None:
    """A config holding a secret must not be readable by every user of the host."""
    if not cfg.organization.audit_role_external_id:
        return
    mode = path.stat().st_mode
    if mode & stat.S_IROTH:
        raise ConfigError(
            f"{path}: holds [organization] audit_role_external_id but is readable by every user "
            f"(mode {stat.S_IMODE(mode):o}); restrict it with `chmod 600 {path}`"
        )


def config_from_dict(data: dict[str, Any], source: str = "<dict>") -> Config:
    unknown = [k for k in data if k not in _SECTION_TYPES]
    if unknown:
        raise ConfigError(f"{source}: {_unknown_msg('section', f'[{unknown[0]}]', unknown[0], _SECTION_TYPES)}")
    sections: dict[str, Any] = {}
    for name, cls in _SECTION_TYPES.items():
        value = data.get(name, {})
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: [{name}] must be a table, found {type(value).__name__}")
        sections[name] = _build_section(name, cls, value, source)
    cfg = Config(**sections, source=source)
    _check_values(cfg)
    return cfg


def _unknown_msg(what: str, shown: str, name: str, allowed: typing.Iterable[str]) -> str:
    allowed = sorted(allowed)
    close = difflib.get_close_matches(name, allowed, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown {what} {shown}{hint}; allowed: {', '.join(allowed)}"


def _build_section(section: str, cls: type, values: dict[str, Any], source: str) -> Any:
    hints = typing.get_type_hints(cls)
    allowed = {f.name for f in fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key not in allowed:
            raise ConfigError(f"{source}: {_unknown_msg('key', f'[{section}] {key}', key, allowed)}")
        kwargs[key] = _coerce(f"[{section}] {key}", hints[key], value, source)
    for f in fields(cls):
        if f.default is MISSING and f.default_factory is MISSING and f.name not in kwargs:
            raise ConfigError(f"{source}: [{section}] {f.name} is required")
    return cls(**kwargs)


def _coerce(where: str, hint: Any, value: Any, source: str) -> Any:
    origin = typing.get_origin(hint)
    if origin is tuple:
        if not isinstance(value, list):
            raise ConfigError(f"{source}: {where} must be a list of strings, found {_show(value)}")
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise ConfigError(f"{source}: {where}[{i}] must be a string, found {_show(item)}")
        return tuple(value)
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{source}: {where} must be true or false, found {_show(value)}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{source}: {where} must be a whole number, found {_show(value)}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{source}: {where} must be a number, found {_show(value)}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{source}: {where} must be a string, found {_show(value)}")
        return value
    if isinstance(hint, types.UnionType):  # pragma: no cover - no such field today
        raise TypeError(f"unsupported config type {hint}")
    raise TypeError(f"unsupported config type {hint}")  # pragma: no cover


def _show(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"


def _check_values(cfg: Config) -> None:
    src = cfg.source

    def bad(where: str, value: Any, allowed: str) -> ConfigError:
        return ConfigError(f"{src}: {where} = {value!r} is not allowed; {allowed}")

    o, d, r, run, out, log = cfg.organization, cfg.datadog, cfg.regions, cfg.run, cfg.output, cfg.logging
    check_bounds({name: getattr(cfg, name) for name in _SECTION_TYPES}, bad)

    def secret(where: str, allowed: str) -> ConfigError:
        return ConfigError(f"{src}: {where} is not allowed; {allowed}")

    check_aws_names(d.role_name, o.audit_role_name, o.audit_role_path, o.audit_role_external_id, bad, secret)
    if not re.fullmatch(r"[A-Za-z0-9_+=,.@-]{2,64}", o.session_name):
        raise bad("[organization] session_name", o.session_name, "2-64 characters of [A-Za-z0-9_+=,.@-]")
    for key in ("include_accounts", "exclude_accounts"):
        for item in getattr(o, key):
            if not ACCOUNT_ID.match(item):
                raise bad(f"[organization] {key}", item, "expected 12-digit account ids")
    for key in ("include_ous", "exclude_ous"):
        for item in getattr(o, key):
            if not (OU_ID.match(item) or item == "Root" or item.startswith("Root/")):
                raise bad(
                    f"[organization] {key}", item, "expected OU ids (ou-..., r-...) or paths starting with 'Root'"
                )
    if d.site not in SITES:
        raise bad("[datadog] site", d.site, f"known sites: {', '.join(SITES)}")
    if d.expected_values not in ("auto", "csv", "datadog_api", "none"):
        raise bad("[datadog] expected_values", d.expected_values, "one of: auto, csv, datadog_api, none")
    if d.expected_values == "csv" and not d.expected_values_csv:
        raise ConfigError(f"{src}: [datadog] expected_values = 'csv' needs [datadog] expected_values_csv")
    if d.api_url and not re.fullmatch(r"https?://\S+", d.api_url):
        raise bad("[datadog] api_url", d.api_url, "expected an http(s):// URL without spaces")
    _check_result_tags(d.result_tags, bad)
    for item in r.audited:
        if not REGION.match(item):
            raise bad("[regions] audited", item, "expected region names like 'eu-west-1'")
    if len(set(r.audited)) != len(r.audited):
        raise bad("[regions] audited", list(r.audited), "regions must not repeat")
    if not r.probe_actions:
        raise bad("[regions] probe_actions", [], "list at least one action, e.g. 'cloudwatch:GetMetricData'")
    for item in r.probe_actions:
        if not ACTION.match(item):
            raise bad("[regions] probe_actions", item, "expected 'service:Action'")
    if run.fail_on_severity not in SEVERITIES:
        raise bad("[run] fail_on_severity", run.fail_on_severity, f"one of: {', '.join(SEVERITIES)}")
    if run.home_region and not REGION.match(run.home_region):
        raise bad("[run] home_region", run.home_region, "expected a region name like 'us-east-1'")
    if out.lock not in ("wait", "fail"):
        raise bad("[output] lock", out.lock, "one of: wait, fail")
    if log.level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise bad("[logging] level", log.level, "one of: DEBUG, INFO, WARNING, ERROR")


def audited_regions(cfg: Config, partition: str, known: typing.Mapping[str, typing.Sequence[str]]) -> tuple[str, ...]:
    """The regions to audit in `partition`: [regions] audited, every name checked against the regions
    botocore knows for that partition (`known`: partition -> regions), or, when empty, all of those.

    Called once the partition is known (sts:GetCallerIdentity), before any account is read: the
    names' shape is checked at load, their existence needs botocore's endpoint data.
    """
    if partition not in known:
        raise ConfigError(f"{cfg.source}: the organization's partition {partition!r} is unknown to this botocore "
                          f"(known: {', '.join(sorted(known))}); upgrade botocore to audit it")
    ours = known[partition]
    if not cfg.regions.audited:
        return tuple(ours)
    bad = [r for r in cfg.regions.audited if r not in ours]
    if bad:
        homes = [f"{r} is in partition {p}" for r in bad for p, regions in sorted(known.items()) if r in regions]
        where = f" ({'; '.join(homes)})" if homes else ""
        raise ConfigError(
            f"{cfg.source}: [regions] audited names {len(bad)} region(s) that do not exist in the organization's "
            f"partition {partition!r}: {', '.join(bad)}{where}; its regions: {', '.join(ours)}")
    return cfg.regions.audited


# Datadog's tag rules: starts with a letter, at most 200 characters of letters, digits, _ - : . /
DATADOG_TAG = re.compile(r"^[A-Za-z][A-Za-z0-9_\-:./]{0,199}$")


def _check_result_tags(tags: tuple[str, ...], bad: typing.Callable[[str, Any, str], ConfigError]) -> None:
    where = "[datadog] result_tags"
    for tag in tags:
        if not DATADOG_TAG.match(tag):
            raise bad(where, tag, "a Datadog tag like 'env:prod' (starts with a letter; at most 200 "
                      "letters, digits and _ - : . /)")
        key = tag.split(":", 1)[0].lower()
        if key in OWN_TAG_KEYS:
            raise bad(where, tag, f"the auditor sets '{key}' itself (its own keys: {', '.join(OWN_TAG_KEYS)})")
    if len(set(tags)) != len(tags):
        raise bad(where, list(tags), "tags must not repeat")


def as_dict(cfg: Config, *, mask_secrets: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _SECTION_TYPES:
        section = getattr(cfg, name)
        values = {}
        for f in fields(section):
            v = getattr(section, f.name)
            if mask_secrets and (name, f.name) in _SECRET_KEYS and v:
                v = "sha256:" + hashlib.sha256(v.encode()).hexdigest()[:12]
            values[f.name] = list(v) if isinstance(v, tuple) else v
        out[name] = values
    return out
