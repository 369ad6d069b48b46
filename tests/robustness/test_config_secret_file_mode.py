"""A config holding the audit role's external id must not be world-readable."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.config import ConfigError, load_config

WITH_SECRET = '[organization]\naudit_role_external_id = "ext-7c1f9a2b44"\n'


def _write(tmp_path: Path, text: str, mode: int) -> Path:
    path = tmp_path / "auditor.toml"
    path.write_text(text)
    path.chmod(mode)
    return path


@pytest.mark.parametrize("mode", [0o644, 0o604, 0o666])
def test_world_readable_config_with_external_id_is_refused_naming_file_and_fix(tmp_path: Path, mode: int) -> None:
    path = _write(tmp_path, WITH_SECRET, mode)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    msg = str(err.value)
    assert str(path) in msg and f"chmod 600 {path}" in msg and "audit_role_external_id" in msg
    assert "ext-7c1f9a2b44" not in msg


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o400])
def test_private_config_with_external_id_loads(tmp_path: Path, mode: int) -> None:
    cfg = load_config(_write(tmp_path, WITH_SECRET, mode))
    assert cfg.organization.audit_role_external_id == "ext-7c1f9a2b44"


def test_world_readable_config_without_secret_loads(tmp_path: Path) -> None:
    cfg = load_config(_write(tmp_path, '[organization]\naudit_role_external_id = ""\n', 0o644))
    assert cfg.organization.audit_role_external_id == ""
