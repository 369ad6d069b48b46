"""A run folder: the one place that names its files, and the way to read them back.

Every command (run, render, explain, datadog sync-regions, datadog send-results) and the writer
reach a run's files through `RunFolder`; no other module spells a file name (a test holds it).
The files' formats are read by load.py (one parser per file) and inventory_json.py; the write
primitives are files.py's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from auditor.model import AuditResult, Finding, RunInfo
from auditor.report.files import write_json
from auditor.report.inventory_json import load_inventory
from auditor.report.load import RunLoadError, load_exclusions, load_findings, load_regions_csv, read_json
from auditor.report.serialize import from_jsonable

RUN_JSON = "run.json"
FINDINGS_JSON = "findings.json"
FINDINGS_CSV = "findings.csv"
REGIONS_CSV = "regions.csv"
INVENTORY_JSON = "inventory.json"
EXCLUSIONS_JSON = "exclusions.json"
EXCLUSIONS_CSV = "exclusions.csv"
EXCLUSIONS_TF_JSON = "exclusions.tf.json"
DATADOG_PATCHES_JSON = "datadog_patches.json"
WORKBOOK = "audit.xlsx"


@dataclass(frozen=True)
class RunFolder:
    """The files of one run folder (`path`, e.g. `<output-dir>/20260101T020000Z/` or `latest`)."""

    path: Path
    # Every file a complete run folder holds (`datadog sync-regions` adds its sync-*.json records).
    FILES: ClassVar[tuple[str, ...]] = (
        RUN_JSON, FINDINGS_JSON, FINDINGS_CSV, REGIONS_CSV, INVENTORY_JSON,
        EXCLUSIONS_JSON, EXCLUSIONS_CSV, EXCLUSIONS_TF_JSON, DATADOG_PATCHES_JSON, WORKBOOK,
    )

    @property
    def run_json(self) -> Path:
        return self.path / RUN_JSON

    @property
    def findings_json(self) -> Path:
        return self.path / FINDINGS_JSON

    @property
    def findings_csv(self) -> Path:
        return self.path / FINDINGS_CSV

    @property
    def regions_csv(self) -> Path:
        return self.path / REGIONS_CSV

    @property
    def inventory_json(self) -> Path:
        return self.path / INVENTORY_JSON

    @property
    def exclusions_json(self) -> Path:
        return self.path / EXCLUSIONS_JSON

    @property
    def exclusions_csv(self) -> Path:
        return self.path / EXCLUSIONS_CSV

    @property
    def exclusions_tf_json(self) -> Path:
        return self.path / EXCLUSIONS_TF_JSON

    @property
    def datadog_patches_json(self) -> Path:
        return self.path / DATADOG_PATCHES_JSON

    @property
    def workbook(self) -> Path:
        return self.path / WORKBOOK

    def sync_record(self, stamp: str, n: int = 0) -> Path:
        """`sync-<stamp>.json` (n = 0), else `sync-<stamp>-<n>.json`: a `datadog sync-regions` record."""
        return self.path / (f"sync-{stamp}.json" if n == 0 else f"sync-{stamp}-{n}.json")

    # --- readers ----------------------------------------------------------------------------------

    def read_run_json(self) -> dict[str, Any]:
        """run.json as a dict; RunLoadError when it is missing, unreadable or not a JSON object."""
        path = self.run_json
        data = read_json(path)
        if not isinstance(data, dict):
            raise RunLoadError(f"{path}: expected a JSON object, found {type(data).__name__}")
        return data

    def is_complete(self) -> bool:
        """run.json is readable and says `complete: true` (the writer writes it last)."""
        try:
            return self.read_run_json().get("complete") is True
        except RunLoadError:
            return False

    def update_run_json(self, key: str, value: Any) -> Path:
        """Add one fact to a finished run's run.json, everything else kept as it was.

        run.json is replaced whole (write_json: temp file, fsync, rename), so a reader sees the file
        before or after, never a mix, and a folder whose run.json says `complete: true` still holds
        every file. Used for what happens after the folder is written: whether the results reached
        Datadog. RunLoadError when run.json is missing or not a JSON object.
        """
        data = self.read_run_json()
        data[key] = value
        return write_json(self.run_json, data)

    def load_findings(self) -> tuple[Finding, ...]:
        return load_findings(self.findings_json)

    def load_result(self) -> AuditResult:
        """The AuditResult a run folder holds (secrets stay as masked as the files have them)."""
        run_dir = self.path
        if not run_dir.is_dir():
            raise RunLoadError(f"{run_dir}: not a run folder")
        inv_path = self.inventory_json
        try:
            inventory, snapshots, meta = load_inventory(inv_path)
            run = from_jsonable(RunInfo, meta["run"])
        except RunLoadError:
            raise
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            raise RunLoadError(f"{inv_path}: not a valid inventory: {exc}") from None
        skipped = tuple((str(s["account_id"]), str(s.get("reason", ""))) for s in meta.get("skipped", []))
        return AuditResult(
            run=run,
            inventory=inventory,
            audited_regions=tuple(meta.get("audited_regions", ())),
            snapshots=tuple(snapshots.values()),
            findings=self.load_findings(),
            regions=load_regions_csv(self.regions_csv),
            exclusions=load_exclusions(self.exclusions_json),
            skipped=skipped,
            expected=tuple(meta.get("expected", ())),
            aws_managed_documents=tuple(dict(meta.get("aws_managed_documents", {})).items()),
        )
