"""Policy facts for display, read from the policy JSON text (principals, sts:ExternalId values,
conditions on aws:RequestedRegion); judging the policies is the checks' job.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from auditor.checks.catalogue import EXTERNAL_ID_CHECKS
from auditor.secrets import mask_secret


def _statements(document: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(document)
    except RecursionError as exc:  # nested deeper than the stack: treated like invalid JSON
        raise ValueError("nested too deeply") from exc
    stmts = data.get("Statement", []) if isinstance(data, dict) else []
    stmts = [stmts] if isinstance(stmts, dict) else stmts
    return [s for s in stmts if isinstance(s, dict)] if isinstance(stmts, list) else []


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def trust_principals(document: str) -> str:
    """The principals Allow statements trust, e.g. `arn:aws:iam::464622532012:root`."""
    try:
        stmts = _statements(document)
    except (ValueError, TypeError):
        return "(trust policy is not valid JSON)"
    found: list[str] = []
    for s in stmts:
        if s.get("Effect") != "Allow":
            continue
        principal = s.get("Principal")
        if principal == "*":
            found.append("* (anyone)")
        elif isinstance(principal, dict):
            for ptype, values in principal.items():
                for v in _as_list(values):
                    found.append(str(v) if ptype == "AWS" else f"{ptype}: {v}")
        if "NotPrincipal" in s:
            found.append("NotPrincipal (everyone but ...)")
    return "; ".join(dict.fromkeys(found))


def external_ids(document: str) -> list[str]:
    """sts:ExternalId condition values of the Allow statements (as stored: may already be masked)."""
    try:
        stmts = _statements(document)
    except (ValueError, TypeError):
        return []
    out: list[str] = []
    for s in stmts:
        cond = s.get("Condition")
        if s.get("Effect") != "Allow" or not isinstance(cond, dict):
            continue
        for block in cond.values():
            if isinstance(block, dict):
                for key, values in block.items():
                    if key.lower() == "sts:externalid":
                        out.extend(str(v) for v in _as_list(values))
    return list(dict.fromkeys(out))


def _mask(value: str, show: bool) -> str:
    return value if value.startswith("****") else mask_secret(value, show=show)


def external_id_state(document: str, failing_checks: Iterable[str], *, show: bool) -> str:
    """The role's external id(s), masked, and the failing external-id checks (the checks compare)."""
    ids = external_ids(document)
    state = ", ".join(_mask(v, show) for v in ids) if ids else "missing (no sts:ExternalId condition)"
    bad = [c for c in failing_checks if c in EXTERNAL_ID_CHECKS]
    return state + (f"; failing: {', '.join(bad)}" if bad else "")


def _region_conditions(content: str) -> Iterator[str]:
    for s in _statements(content):
        cond = s.get("Condition")
        if not isinstance(cond, dict):
            continue
        for op, block in cond.items():
            if not isinstance(block, dict):
                continue
            for key, values in block.items():
                if key.lower() == "aws:requestedregion":
                    yield f"{s.get('Effect', '?')} {op}: {', '.join(str(v) for v in _as_list(values))}"


def region_restriction(content: str) -> tuple[str, str]:
    """("yes"/"no", the Deny/Allow conditions on aws:RequestedRegion) from the policy text."""
    try:
        conds = list(_region_conditions(content))
    except (ValueError, TypeError, AttributeError, RecursionError):
        hit = "aws:requestedregion" in content.lower()
        return ("yes" if hit else "no"), "(policy text is not valid JSON)"
    return ("yes" if conds else "no"), "; ".join(conds)
