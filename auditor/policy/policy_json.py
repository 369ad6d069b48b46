"""Policy text -> JSON values, for every parser of policy documents (SCP/RCP, trust, permissions).

Policy text is written by account and OU owners: it must not be able to make a parser fail in a
way nobody foresaw or do work out of proportion to its size. So, before and while decoding:
nesting is bounded (IAM documents nest 7 levels; deep nesting ends Python's recursive decoders and
walkers with RecursionError), integers are bounded in digits (Python refuses to convert more than
4300 digits, with a ValueError no parser expected, and the conversion grows quadratically), and
`NaN`/`Infinity`, which are not JSON, are refused. Every refusal is a `PolicyJsonError` naming
what is wrong, never the values.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 32
MAX_INTEGER_DIGITS = 100
# A JSON string (unambiguous: each character is consumed one way, so matching is linear).
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


class PolicyJsonError(ValueError):
    """The text is not JSON a policy parser reads; the message says why."""


def load_policy_json(text: str) -> Any:
    _check_depth(text)
    try:
        return json.loads(text, parse_int=_integer, parse_constant=_constant)
    except PolicyJsonError:
        raise
    except json.JSONDecodeError as exc:
        raise PolicyJsonError(f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:  # defence: the depth check should have refused it
        raise PolicyJsonError(f"nested more than {MAX_DEPTH} levels deep") from None
    except ValueError as exc:
        raise PolicyJsonError(str(exc)) from None


def _check_depth(text: str) -> None:
    depth = 0
    for m in _BRACKET.finditer(_STRING.sub("", text)):
        depth += 1 if m.group() in "[{" else -1
        if depth > MAX_DEPTH:
            raise PolicyJsonError(f"nested more than {MAX_DEPTH} levels deep (IAM policies nest at most 7)")


def _integer(digits: str) -> int:
    count = len(digits.lstrip("-"))
    if count > MAX_INTEGER_DIGITS:
        raise PolicyJsonError(f"a number has {count} digits (at most {MAX_INTEGER_DIGITS} are read)")
    return int(digits)


def _constant(name: str) -> Any:
    raise PolicyJsonError(f"{name} is not a JSON value")
