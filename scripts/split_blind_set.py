"""Split a blind test set into a development half and a sealed half, once, reproducibly.

Cases are grouped by what a per-category report counts (category, form, language, signal or not),
shuffled with a fixed seed inside each group, and dealt alternately, so both halves carry
every group. The sealed half is run once, at the end of a round, and reported as it is.

    python scripts/split_blind_set.py OUT_DIR FILE.jsonl [FILE.jsonl ...]
"""

from __future__ import annotations

import json
import random
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, List, Tuple

SEED = 20261206


def group_key(case: Dict[str, Any]) -> Tuple[str, ...]:
    """What the reports count a case by."""
    return (
        str(case.get("category", "")),
        str(case.get("form", "")),
        str(case.get("lang", "en")),
        "signal" if case.get("kinds") else "",
    )


def split(cases: List[Dict[str, Any]]) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """(development, sealed): every group dealt alternately after a seeded shuffle."""
    groups: Dict[Tuple[str, ...], List[Dict[str, Any]]] = defaultdict(list)
    for case in cases:
        groups[group_key(case)].append(case)
    rng = random.Random(SEED)
    dev: List[Dict[str, Any]] = []
    sealed: List[Dict[str, Any]] = []
    for key in sorted(groups):
        members = sorted(groups[key], key=lambda c: c["id"])
        rng.shuffle(members)
        for index, case in enumerate(members):
            (dev if index % 2 == 0 else sealed).append(case)
    return sorted(dev, key=lambda c: c["id"]), sorted(sealed, key=lambda c: c["id"])


def main(out_dir: str, *files: str) -> None:
    """Read the cases, split them, write dev.jsonl and sealed.jsonl."""
    cases = [json.loads(line) for f in files for line in Path(f).read_text("utf-8").splitlines() if line.strip()]
    dev, sealed = split(cases)
    for name, half in (("dev", dev), ("sealed", sealed)):
        with (Path(out_dir) / f"{name}.jsonl").open("w", encoding="utf-8") as handle:
            for case in half:
                handle.write(json.dumps(case, ensure_ascii=False) + "\n")
        print(f"{name}: {len(half)} cases")


if __name__ == "__main__":
    main(*sys.argv[1:])
