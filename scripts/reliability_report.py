"""Write the latest test results into the table of docs/RELIABILITY.md.

    python scripts/reliability_report.py var/results/reliability.xml [more.xml ...]

Each table row names its tests in backticks as `path/to/test_file.py::test_name_prefix`
(several separated by spaces); its last column becomes "pass n/n (date)" or "FAIL k of n"
from the JUnit XML pytest wrote (`--junitxml`). Rows whose tests are not in the given
files keep their last result, so the default run and the scale-out run update their own.
"""

from __future__ import annotations

import datetime
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

DOC = Path(__file__).resolve().parent.parent / "docs" / "RELIABILITY.md"
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def outcomes(files: Sequence[Path]) -> Dict[Tuple[str, str], str]:
    """(test file, test name) -> "pass" / "fail" / "skip", for every test case run."""
    results: Dict[Tuple[str, str], str] = {}
    for file in files:
        for case in ET.parse(file).getroot().iter("testcase"):
            path = case.get("classname", "").replace(".", "/")
            # "tests.reliability.test_faults" or "...test_faults.SomeClass"
            module = next((p for p in (path, path.rsplit("/", 1)[0]) if p), path) + ".py"
            if any(child.tag in ("failure", "error") for child in case):
                outcome = "fail"
            elif any(child.tag == "skipped" for child in case):
                outcome = "skip"
            else:
                outcome = "pass"
            results[(module, case.get("name", ""))] = outcome
    return results


def summarise(found: List[str], today: str) -> str:
    """The result cell for a row's test outcomes."""
    failed = found.count("fail")
    passed = found.count("pass")
    if failed:
        return f"**FAIL** {failed} of {len(found)} ({today})"
    if passed == 0:
        return f"skipped ({today})"
    skipped = f", {found.count('skip')} skipped" if found.count("skip") else ""
    return f"pass {passed}/{len(found)}{skipped} ({today})"


def update(doc: Path, files: Sequence[Path]) -> int:
    """Rewrite the result column of every row whose tests ran; return rows updated."""
    results = outcomes(files)
    today = datetime.date.today().isoformat()
    lines = doc.read_text(encoding="utf-8").splitlines()
    updated = 0
    for index, line in enumerate(lines):
        references = REFERENCE.findall(line) if line.startswith("|") else []
        if not references:
            continue
        found = [
            outcome
            for (module, name), outcome in results.items()
            for ref_module, prefix in references
            if module.endswith(ref_module) and re.match(rf"{prefix}(\[|$)", name)
        ]
        if not found:
            continue
        cells = line.rstrip("|").split("|")
        cells[-1] = f" {summarise(found, today)} "
        lines[index] = "|".join(cells) + "|"
        updated += 1
    doc.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return updated


if __name__ == "__main__":
    paths = [Path(arg) for arg in sys.argv[1:]]
    if not paths:
        sys.exit(__doc__)
    print(f"docs/RELIABILITY.md: {update(DOC, paths)} row(s) updated")
