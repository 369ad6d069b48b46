"""The auditor config the Datadog end-to-end tests share: the demo organization's audit role, the
Datadog API source at the double's URL, the audited regions, a small fan-out."""

import json
import os
from collections.abc import Sequence
from pathlib import Path


def api_source_config(tmp_path: Path, datadog_url: str, regions: Sequence[str]) -> Path:
    cfg = tmp_path / "auditor.toml"
    cfg.write_text(
        '[organization]\naudit_role_name = "OrganizationAccountAccessRole"\n'
        f'[datadog]\nexpected_values = "datadog_api"\napi_url = "{datadog_url}"\n'
        f"[regions]\naudited = {json.dumps(list(regions))}\n[run]\nworkers = 4\nmax_attempts = 2\n"
    )
    os.chmod(cfg, 0o600)  # as an operator keeps a config (one holding a secret must not be world-readable)
    return cfg
