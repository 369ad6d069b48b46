"""Masking of secrets-of-a-kind (external ids) for logs, reports, evidence and saved inventories.

The project's one masking rule: checks, the report and inventory.json all call `mask_secret`,
directly or through `mask_external_ids_in` for a decoded policy document.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

EXTERNAL_ID_KEY = "sts:externalid"  # condition keys are case-insensitive


def mask_secret(value: str | None, *, show: bool = False, keep: int = 4) -> str:
    """`****1234`: enough to tell two ids apart, not enough to reuse one.

    Idempotent: a value already masked this way (read back from a saved inventory) is kept as it is.
    """
    if value is None:
        return ""
    if show or _already_masked(value, keep):
        return value
    if len(value) <= keep * 2:
        return "****"
    return "****" + value[-keep:]


def _already_masked(value: str, keep: int) -> bool:
    return re.fullmatch(rf"\*{{4}}(?:.{{{keep}}})?", value, re.DOTALL) is not None


def mask_external_ids_in(node: Any, mask: Callable[[str], str] = mask_secret, *, under_condition: bool = False) -> Any:
    """A copy of decoded policy JSON (a document or one statement) with the values of every
    sts:ExternalId condition key replaced by `mask(value)`."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if under_condition and isinstance(k, str) and k.lower() == EXTERNAL_ID_KEY:
                out[k] = [mask(str(x)) for x in v] if isinstance(v, list) else mask(str(v))
            else:
                out[k] = mask_external_ids_in(v, mask, under_condition=under_condition or k == "Condition")
        return out
    if isinstance(node, list):
        return [mask_external_ids_in(x, mask, under_condition=under_condition) for x in node]
    return node
