import os
import sys
from pathlib import Path

import pytest

# `bench/` (its organization generator serves some tests) is not an installed package.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

# No test may reach real AWS: fake credentials and a fixed region for every test.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_SESSION_TOKEN", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "DD_API_KEY", "DD_APP_KEY", "DD_SITE"):
    os.environ.pop(var, None)


@pytest.fixture(autouse=True)
def _light_describe_regions():
    """moto answers ec2 DescribeRegions (each account's region opt-in status, read once per account)
    without building the account's EC2 backend (~0.5 s of CPU per account in moto)."""
    from auditor.demo.moto_regions import opted_in_regions

    with opted_in_regions():
        yield


@pytest.fixture(autouse=True)
def _no_log_handler_outlives_its_test():
    """A run's console handler holds the sys.stderr of its test (pytest's capture, closed after it):
    left on the "auditor" logger, a later test's log lines would reach a closed stream and print
    logging's error traceback into that test's stderr."""
    import logging

    yield
    root = logging.getLogger("auditor")
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
