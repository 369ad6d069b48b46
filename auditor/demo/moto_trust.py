"""Make moto's sts:AssumeRole refuse what AWS refuses.

moto lets anyone assume any role ARN, even one that does not exist. AWS answers AccessDenied
when the role is missing, when its trust policy does not name the caller's account, or when
its sts:ExternalId condition does not match. The demo and the tests need that behaviour to
show an account whose audit role cannot be assumed, so this module patches moto's STS
backend with those three rules (a subset of IAM, enough for role trust).
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import warnings
from collections.abc import Iterator
from typing import Any
from unittest.mock import patch

from moto.iam.models import iam_backends
from moto.sts.exceptions import STSClientError
from moto.sts.models import STSBackend


class AccessDenied(STSClientError):
    code = "AccessDenied"

    def __init__(self, message: str) -> None:
        super().__init__("AccessDenied", message)


def _as_list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else [v]


def _trusts(doc: dict[str, Any], caller_account: str, caller_arn: str, external_id: str | None) -> bool:
    for st in _as_list(doc.get("Statement", [])):
        if st.get("Effect") != "Allow":
            continue
        actions = [a.lower() for a in _as_list(st.get("Action", []))]
        if not any(fnmatch.fnmatchcase("sts:assumerole", a) for a in actions):
            continue
        principal = st.get("Principal", {})
        aws = _as_list(principal.get("AWS", [])) if isinstance(principal, dict) else [principal]
        if not any(p in ("*", caller_account, f"arn:aws:iam::{caller_account}:root", caller_arn) for p in aws):
            continue
        cond = st.get("Condition", {}).get("StringEquals", {})
        wanted = next((v for k, v in cond.items() if k.lower() == "sts:externalid"), None)
        if wanted is not None and external_id not in _as_list(wanted):
            continue
        return True
    return False


_original = STSBackend.assume_role


def _assume_role(self: STSBackend, region_name: str, role_session_name: str, role_arn: str, policy: str,
                 duration: int, external_id: str) -> Any:
    caller = self.account_id
    target_account = role_arn.split(":")[4]
    role_name = role_arn.rsplit("/", 1)[-1]
    denied = AccessDenied(
        f"User: arn:aws:iam::{caller}:root is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
    )
    backend = iam_backends[target_account]["aws"]
    role = next((r for r in backend.roles.values() if r.name == role_name), None)
    if role is None:
        raise denied
    doc = json.loads(role.assume_role_policy_document)
    if not _trusts(doc, caller, f"arn:aws:iam::{caller}:root", external_id):
        raise denied
    return _original(self, region_name, role_session_name, role_arn, policy, duration, external_id)


@contextlib.contextmanager
def enforce_role_trust() -> Iterator[None]:
    with patch.object(STSBackend, "assume_role", _assume_role), warnings.catch_warnings():
        # moto warns that STS's model has no AccessDenied shape; AWS sends it all the same.
        warnings.filterwarnings("ignore", message=r"Exception\(AccessDenied\)")
        yield
