"""Pure checks: plain data in, findings out (no boto3, no network, no clock, no file I/O)."""

from auditor.checks.role import role_findings
from auditor.checks.secrets import mask_secret

__all__ = ["mask_secret", "role_findings"]
