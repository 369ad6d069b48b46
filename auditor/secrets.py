"""Masking of secrets-of-a-kind (external ids) for logs, reports and saved inventories."""

from __future__ import annotations


def mask_secret(value: str | None, *, show: bool = False, keep: int = 4) -> str:
    """`****1234`: enough to tell two ids apart, not enough to reuse one."""
    if value is None:
        return ""
    if show:
        return value
    if len(value) <= keep * 2:
        return "****"
    return "****" + value[-keep:]
