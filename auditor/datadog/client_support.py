"""Which `datadog-api-client` the auditor needs, and one clear message when the installed one cannot.

The v2 AWS integration operations appeared in 2.31 and were disabled as "unstable" until 2.43;
`get_aws_integration_iam_permissions_standard` appeared in 2.44; `Configuration.retry_policy`,
which both Datadog modules set, in 2.46. An older client fails on its first call with an error
that looks like Datadog's ("unexpected response", "Unstable operation ... is disabled"), so the
calls below turn those into one message naming the version to install. Imports nothing from the
client at module level: the check must work when the client is too old to import.
"""

from __future__ import annotations

import re
from importlib import metadata

DISTRIBUTION = "datadog-api-client"
MIN_VERSION = "2.46.0"  # keep equal to pyproject.toml's floor (a test holds it)

# Every operation the auditor calls, as the client's `unstable_operations` keys name them
# ("<api version>.<operation id>"); a test holds that the code calls no other.
OPERATIONS = (
    "v2.list_aws_accounts",
    "v2.get_aws_account",
    "v2.update_aws_account",
    "v2.get_aws_integration_iam_permissions_standard",
    "v2.submit_metrics",
    "v1.create_event",
)


def installed_version() -> str:
    """The installed client's version, "" when it cannot be told."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return ""


def version_tuple(version: str) -> tuple[int, ...]:
    """(2, 46, 0) from "2.46.0"; a suffix is ignored ("2.46.0rc1" counts as 2.46.0)."""
    match = re.match(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?", version.strip())
    return tuple(int(g) for g in match.groups() if g is not None) if match else ()


def client_too_old(version: str | None = None) -> bool:
    """True when the installed (or given) client is known to be older than MIN_VERSION."""
    version = installed_version() if version is None else version
    return bool(version) and version_tuple(version) < version_tuple(MIN_VERSION)


def client_message(what: str, version: str | None = None) -> str:
    """`what` went wrong because of the client: the message says which client is needed."""
    version = installed_version() if version is None else version
    installed = f"datadog-api-client {version}" if version else "the installed datadog-api-client"
    return (
        f"{what}: {installed} cannot make this call; the auditor needs {DISTRIBUTION}>={MIN_VERSION} "
        f"(pip install '{DISTRIBUTION}>={MIN_VERSION}')"
    )


def is_unstable_disabled(exc: BaseException) -> bool:
    """The client refused an operation it ships as unstable and disabled (clients before 2.43 for
    the v2 AWS integration): its ApiValueError says "Unstable operation '...' is disabled"."""
    text = str(exc)
    return type(exc).__name__ == "ApiValueError" and "Unstable operation" in text and "disabled" in text
