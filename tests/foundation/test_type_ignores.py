"""Every `# type: ignore` left in auditor/ names its error code and says why: after it, or in a
`# ignore: ...` comment just above its statement (README, development)."""

import re
from pathlib import Path

AUDITOR = Path(__file__).resolve().parents[2] / "auditor"


def test_each_type_ignore_names_its_error_code_and_a_reason() -> None:
    bad = []
    for path in sorted(AUDITOR.rglob("*.py")):
        lines = path.read_text().splitlines()
        for n, line in enumerate(lines):
            if "type: ignore" not in line:
                continue
            coded = re.search(r"# type: ignore\[[a-z-]+(, ?[a-z-]+)*\]", line)
            said_after = re.search(r"# type: ignore\[[^]]*\]\s+#\s*\S", line)
            said_before = any(prev.strip().startswith("# ignore:") for prev in lines[max(0, n - 3):n])
            if not (coded and (said_after or said_before)):
                bad.append(f"{path.relative_to(AUDITOR.parent)}:{n + 1}")
    assert bad == []
