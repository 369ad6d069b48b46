"""One clock and one way to write a UTC time; the pure layers never read the clock."""

import ast
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from auditor import clock

AUDITOR = Path(clock.__file__).resolve().parent
# What reads the wall clock or a timer (a pure rule passes the time in instead).
CLOCK_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"),
               ("time", "time"), ("time", "time_ns"), ("time", "monotonic"), ("time", "perf_counter"),
               ("time", "localtime"), ("time", "gmtime")}


def test_iso_writes_utc_seconds_with_z_whatever_the_zone() -> None:
    paris = timezone(timedelta(hours=1))
    assert clock.iso(datetime(2026, 12, 6, 1, 7, 43, 999, tzinfo=paris)) == "2026-12-06T00:07:43Z"
    assert clock.iso(datetime(2026, 12, 6, 0, 7, 43)) == "2026-12-06T00:07:43Z"  # naive: UTC


def test_stamp_is_the_sortable_run_folder_name_in_utc() -> None:
    assert clock.stamp(datetime(2026, 12, 6, 0, 7, 43, tzinfo=timezone(timedelta(hours=-5)))) == "20261206T050743Z"


def test_parse_iso_reads_what_iso_writes_and_takes_naive_text_as_utc() -> None:
    when = clock.now().replace(microsecond=0)
    assert clock.parse_iso(clock.iso(when)) == when
    assert clock.parse_iso("2026-12-06T00:07:43").utcoffset() == timedelta(0)
    with pytest.raises(ValueError):
        clock.parse_iso("yesterday")


def test_now_is_utc_aware() -> None:
    assert clock.now().utcoffset() == timedelta(0)


def _clock_reads(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and (
            node.module == "auditor.clock" or (node.module == "auditor" and any(a.name == "clock" for a in node.names))
        ):
            found.append(f"{path.name}:{node.lineno} imports auditor.clock")
        elif isinstance(node, ast.ImportFrom) and node.module == "time":
            found.append(f"{path.name}:{node.lineno} imports from time")
        elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
              and (node.value.id, node.attr) in CLOCK_CALLS):
            found.append(f"{path.name}:{node.lineno} {node.value.id}.{node.attr}")
    return found


@pytest.mark.parametrize("layer", ["policy", "checks"])
def test_pure_layers_never_read_the_clock(layer: str) -> None:
    reads = [r for module in sorted((AUDITOR / layer).rglob("*.py")) for r in _clock_reads(module)]
    assert reads == []


def test_only_the_clock_module_asks_datetime_for_now() -> None:
    reads = [r for module in sorted(AUDITOR.rglob("*.py")) if module.name != "clock.py"
             for r in _clock_reads(module) if r.endswith(("datetime.now", "datetime.utcnow"))]
    assert reads == []
