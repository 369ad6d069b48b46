import os

import pytest

# No test may reach real AWS: fake credentials and a fixed region for every test.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_SESSION_TOKEN", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "DD_API_KEY", "DD_APP_KEY", "DD_SITE"):
    os.environ.pop(var, None)


@pytest.fixture
def shared_policies_dir():
    from pathlib import Path

    return Path(__file__).resolve().parents[1] / "auditor" / "testing" / "policies"
