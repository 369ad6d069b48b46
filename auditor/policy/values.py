"""Condition values as the operators read them (numbers, dates, networks, base64), and how a
JSON value is named in an error message.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any


def parse_number(text: str) -> Decimal | None:
    try:
        d = Decimal(text.strip())
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


def parse_date(text: str) -> float | None:
    t = text.strip()
    if re.fullmatch(r"-?\d+", t):
        return float(t)
    try:
        dt = datetime.fromisoformat(t.replace("z", "Z"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def parse_network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def parse_binary(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def value_problem(family: str, text: str) -> str:
    """Why an operator of `family` cannot read `text` ("" when it can)."""
    if family in ("bool", "null") and text.lower() not in ("true", "false"):
        return "is not true or false"
    if family == "numeric" and parse_number(text) is None:
        return "is not a number"
    if family == "date" and parse_date(text) is None:
        return "is not a date (ISO 8601 or epoch seconds)"
    if family == "ip" and parse_network(text) is None:
        return "is not an IP address or CIDR block"
    if family == "binary" and parse_binary(text) is None:
        return "is not base64"
    return ""


def value_text(value: bool | int | float | str) -> str:
    """A JSON scalar as the string a condition compares (booleans as `true`/`false`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    return value


def kind_shown(value: Any) -> str:
    """A JSON value's type with the value (organization policies: their text is not secret)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {json.dumps(value)}"
    if isinstance(value, (int, float)):
        return f"number {value!r}"
    if isinstance(value, str):
        return f"string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


_TYPE_NAMES = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number",
               float: "a number", type(None): "null"}


def kind_hidden(value: Any) -> str:
    """A JSON value's type without the value (role policies: condition values may be external ids)."""
    return _TYPE_NAMES.get(type(value), type(value).__name__)
