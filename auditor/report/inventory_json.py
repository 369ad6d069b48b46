"""inventory.json: everything a run collected, so analysis and rendering can be redone offline.

External ids are masked on the way out (in the audit-role config and in every trust policy's
`sts:ExternalId` condition): the file can be shared with people who must not hold them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from auditor.model import AccountSnapshot, AuditResult, ExpectedValues, Inventory
from auditor.policy.policy_json import PolicyJsonError, load_policy_json
from auditor.report.load import RunLoadError, read_json
from auditor.report.serialize import from_jsonable, to_jsonable
from auditor.secrets import mask_external_ids_in, mask_secret

FORMAT_VERSION = 1
_EXTERNAL_ID_RAW = re.compile(r'("sts:externalid"\s*:\s*)("(?:[^"\\]|\\.)*"|\[[^\]]*\])', re.IGNORECASE)


def mask_external_ids(document: str) -> str:
    """The policy text with every sts:ExternalId condition value masked."""
    try:
        return json.dumps(mask_external_ids_in(load_policy_json(document)), separators=(",", ":"))
    except PolicyJsonError:
        # Not JSON a policy reader reads (a finding elsewhere): still never leak an id.
        return _EXTERNAL_ID_RAW.sub(lambda m: m.group(1) + '"****"', document)


def _masked_snapshot(snap: dict[str, Any]) -> dict[str, Any]:
    role = snap.get("role")
    if role:
        role["trust_policy"] = mask_external_ids(role["trust_policy"])
    for other in snap.get("other_roles", []):
        other["trust_policy"] = mask_external_ids(other["trust_policy"])
    return snap


def inventory_to_dict(result: AuditResult) -> dict[str, Any]:
    expected = []
    for e in result.expected:
        d = to_jsonable(e)
        d["external_id"] = mask_secret(e.external_id) if e.external_id else e.external_id
        d["access_key_id"] = mask_secret(e.access_key_id) if e.access_key_id else e.access_key_id
        expected.append(d)
    return {
        "format_version": FORMAT_VERSION,
        "run": to_jsonable(result.run),
        "audited_regions": list(result.audited_regions),
        "inventory": to_jsonable(result.inventory),
        "snapshots": [_masked_snapshot(to_jsonable(s)) for s in result.snapshots],
        "skipped": [{"account_id": a, "reason": r} for a, r in result.skipped],
        "aws_managed_documents": dict(result.aws_managed_documents),
        "expected": expected,
        "analysis": to_jsonable(result.settings),
    }


def load_inventory(path: str | Path) -> tuple[Inventory, dict[str, AccountSnapshot], dict[str, Any]]:
    """(inventory, snapshots by account id, the rest of the file) from a run's inventory.json file."""
    p = Path(path)
    data = read_json(p)  # RunLoadError naming the file: unreadable, not JSON, nested too deep
    if not isinstance(data, dict):
        raise RunLoadError(f"{p}: expected a JSON object, found {type(data).__name__}")
    if data.get("format_version") != FORMAT_VERSION:
        raise RunLoadError(f"{p}: unsupported inventory format {data.get('format_version')!r}")
    try:
        inventory = from_jsonable(Inventory, data["inventory"])
        snaps = {s["account_id"]: from_jsonable(AccountSnapshot, s) for s in data["snapshots"]}
        meta = {k: v for k, v in data.items() if k not in ("inventory", "snapshots")}
        meta["expected"] = [from_jsonable(ExpectedValues, e) for e in data.get("expected", [])]
    except (TypeError, ValueError, KeyError, AttributeError) as exc:  # a hand-edited or damaged file
        raise RunLoadError(f"{p}: not a valid inventory: {type(exc).__name__}: {exc}") from None
    return inventory, snaps, meta
