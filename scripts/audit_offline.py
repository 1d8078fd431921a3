"""Offline vulnerability audit of requirements.lock against a committed advisory snapshot.

`make audit` runs pip-audit first; where no advisory service answers, scripts/audit.sh falls
back to this evaluator. It reads every pin of requirements.lock, evaluates it against
security/pypa-advisories.json (a reduced snapshot of the PyPA Advisory Database, OSV format,
CC-BY 4.0) with OSV range semantics, skips the findings accepted in docs/AUDIT.md (by id or by
alias) and prints what is left.

Exit status: 0 when nothing unaccepted remains; 1 when an unaccepted finding exists, when a
locked package was never looked up for the snapshot (a new dependency cannot pass unaudited),
or when a package's snapshot entry is incomplete and that gap is not accepted in docs/AUDIT.md.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LOCK = ROOT / "requirements.lock"
DEFAULT_SNAPSHOT = ROOT / "security" / "pypa-advisories.json"
DEFAULT_ACCEPTED = ROOT / "docs" / "AUDIT.md"

# The same rows scripts/audit.sh passes to pip-audit as --ignore-vuln.
ACCEPTED_ID = re.compile(r"^\| *(GHSA-[a-z0-9-]+|PYSEC-[0-9-]+|CVE-[0-9-]+)", re.MULTILINE)
# Rows that accept a snapshot coverage gap for one package: "| gap:<normalised name> |".
ACCEPTED_GAP = re.compile(r"^\| *gap:([a-z0-9-]+)", re.MULTILINE)


def normalise(name: str) -> str:
    """Return the PyPI-normalised form of a project name (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(text: str) -> list[tuple[str, str]]:
    """Return (normalised name, version) for every `name==version` pin of a lock file.

    Comments, blank lines, `--hash` continuation lines and environment markers are ignored.
    """
    pins: list[tuple[str, str]] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].split(";", 1)[0].strip().rstrip("\\").strip()
        if not line or line.startswith("-"):
            continue
        if "==" not in line:
            raise ValueError(f"not an exact pin in the lock file: {raw!r}")
        name, version = line.split("==", 1)
        name = name.split("[", 1)[0].strip()
        pins.append((normalise(name), version.strip()))
    return pins


def read_accepted(text: str) -> tuple[set[str], set[str]]:
    """Return (accepted advisory ids, accepted coverage-gap packages) from docs/AUDIT.md text."""
    ids = {match.upper() for match in ACCEPTED_ID.findall(text)}
    gaps = {match for match in ACCEPTED_GAP.findall(text)}
    return ids, gaps


def _parse(version: str) -> Version:
    return Version(version)


def _event_key(event: Mapping[str, str]) -> Version:
    ((kind, value),) = event.items()
    if kind == "introduced" and value == "0":
        return Version("0")
    return _parse(value)


def in_range(version: Version, events: Sequence[Mapping[str, str]]) -> bool:
    """Tell whether `version` is affected by one OSV ECOSYSTEM range.

    Events are evaluated in version order (OSV's algorithm): an `introduced` event at or below
    the version marks it affected, a `fixed` event at or below it marks it unaffected again, a
    `last_affected` event below it marks it unaffected. `introduced: "0"` means "since the first
    release"; `limit` events only bound GIT ranges and are ignored.
    """
    affected = False
    for event in sorted(events, key=_event_key):
        ((kind, value),) = event.items()
        if kind == "introduced":
            if value == "0" or version >= _parse(value):
                affected = True
        elif kind == "fixed":
            if version >= _parse(value):
                affected = False
        elif kind == "last_affected" and version > _parse(value):
            affected = False
    return affected


def is_affected(version: str, advisory: Mapping[str, Any]) -> bool:
    """Tell whether a pinned version is affected by an advisory (ranges or explicit versions).

    Raises InvalidVersion when the pinned version or a range bound cannot be compared.
    """
    pinned = _parse(version)
    for listed in advisory.get("versions", []):
        try:
            if _parse(listed) == pinned:
                return True
        except InvalidVersion:
            if listed == version:
                return True
    for rng in advisory.get("ranges", []):
        if rng.get("type", "ECOSYSTEM") == "ECOSYSTEM" and in_range(pinned, rng.get("events", [])):
            return True
    return False


def fixed_in(advisory: Mapping[str, Any]) -> list[str]:
    """Return the `fixed` versions named by an advisory's ranges, lowest first."""
    fixes = {
        value
        for rng in advisory.get("ranges", [])
        for event in rng.get("events", [])
        for kind, value in event.items()
        if kind == "fixed"
    }
    return sorted(fixes, key=_parse)


@dataclass
class Finding:
    """One advisory that affects one pinned package."""

    package: str
    version: str
    advisory_id: str
    aliases: list[str]
    fixed: list[str]
    summary: str
    accepted_as: str | None = None


@dataclass
class Report:
    """Everything one offline audit run found."""

    findings: list[Finding] = field(default_factory=list)
    not_looked_up: list[str] = field(default_factory=list)
    gaps: dict[str, str] = field(default_factory=dict)
    accepted_gaps: dict[str, str] = field(default_factory=dict)
    withdrawn_skipped: int = 0
    unevaluable: list[str] = field(default_factory=list)

    @property
    def open_findings(self) -> list[Finding]:
        """Findings not accepted in docs/AUDIT.md."""
        return [f for f in self.findings if f.accepted_as is None]

    @property
    def accepted_findings(self) -> list[Finding]:
        """Findings accepted in docs/AUDIT.md (by id or alias)."""
        return [f for f in self.findings if f.accepted_as is not None]

    @property
    def failed(self) -> bool:
        """True when the audit must fail."""
        return bool(self.open_findings or self.not_looked_up or self.gaps or self.unevaluable)


def evaluate(
    pins: Iterable[tuple[str, str]],
    snapshot: Mapping[str, Any],
    accepted_ids: Iterable[str],
    accepted_gaps: Iterable[str] = (),
) -> Report:
    """Evaluate every pin against the snapshot and sort the results into a Report.

    `accepted_ids` are advisory ids or aliases accepted in docs/AUDIT.md; `accepted_gaps` are
    packages whose incomplete snapshot entry is accepted.
    """
    report = Report()
    gaps_ok = set(accepted_gaps)
    packages: Mapping[str, Any] = snapshot.get("packages", {})
    wanted = {i.upper() for i in accepted_ids}
    for name, version in pins:
        entry = packages.get(name)
        if entry is None:
            report.not_looked_up.append(f"{name}=={version}")
            continue
        if not entry.get("complete", True):
            gap = entry.get("gap", "snapshot entry incomplete")
            (report.accepted_gaps if name in gaps_ok else report.gaps)[name] = gap
        for advisory in entry.get("advisories", []):
            if advisory.get("withdrawn"):
                report.withdrawn_skipped += 1
                continue
            try:
                hit = is_affected(version, advisory)
            except InvalidVersion:
                report.unevaluable.append(f"{name}=={version} {advisory.get('id')}")
                continue
            if not hit:
                continue
            ids = [advisory["id"], *advisory.get("aliases", [])]
            accepted_as = next((i for i in ids if i.upper() in wanted), None)
            report.findings.append(
                Finding(
                    package=name,
                    version=version,
                    advisory_id=advisory["id"],
                    aliases=list(advisory.get("aliases", [])),
                    fixed=fixed_in(advisory),
                    summary=advisory.get("summary", ""),
                    accepted_as=accepted_as,
                )
            )
    return report


def _table(findings: Sequence[Finding]) -> list[str]:
    header = ("Package", "Pinned", "Advisory", "Aliases", "Fixed in", "Summary")
    rows = [
        (
            f.package,
            f.version,
            f.advisory_id + (f" (accepted as {f.accepted_as})" if f.accepted_as else ""),
            ", ".join(f.aliases) or "-",
            ", ".join(f.fixed) or "none",
            f.summary if len(f.summary) <= 90 else f.summary[:87] + "...",
        )
        for f in findings
    ]
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return [fmt.format(*header), fmt.format(*("-" * w for w in widths))] + [fmt.format(*r) for r in rows]


def render(report: Report, snapshot: Mapping[str, Any], pins_count: int) -> str:
    """Return the human-readable result of one run."""
    source = snapshot.get("source", {})
    lines = [
        f"Offline audit of {pins_count} pins against {source.get('name', 'the snapshot')} "
        f"snapshot gathered {source.get('gathered', '?')} ({source.get('repository', '?')}, "
        f"{source.get('license', '?')}).",
        "WARNING: the snapshot is a stored copy and can miss newer advisories "
        "(and GHSA-only ones); run `make audit` where pip-audit reaches PyPI to be current.",
    ]
    if report.findings:
        lines += ["", "Findings:", *_table(report.findings)]
    else:
        lines += ["", "No pinned version matches a kept advisory."]
    if report.withdrawn_skipped:
        lines.append(f"({report.withdrawn_skipped} withdrawn advisory(ies) of pinned packages not evaluated.)")
    for name, gap in sorted(report.accepted_gaps.items()):
        lines.append(f"Coverage gap accepted in docs/AUDIT.md: {name}: {gap}")
    for name, gap in sorted(report.gaps.items()):
        lines.append(f"FAIL coverage gap not accepted: {name}: {gap}")
    for pin in report.not_looked_up:
        lines.append(f"FAIL never looked up for the snapshot: {pin} (refresh security/pypa-advisories.json)")
    for item in report.unevaluable:
        lines.append(f"FAIL cannot compare versions: {item}")
    lines.append("")
    lines.append(
        f"{len(report.open_findings)} open finding(s), {len(report.accepted_findings)} accepted, "
        f"{len(report.not_looked_up)} package(s) not looked up, {len(report.gaps)} unaccepted gap(s): "
        + ("FAIL" if report.failed else "PASS")
    )
    return "\n".join(lines)


def _summary(record: Mapping[str, Any]) -> str:
    text = str(record.get("summary") or "").strip()
    if not text or text.startswith("Vulnerability in "):
        text = " ".join(str(record.get("details") or "").split())
    first = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
    return first if len(first) <= 200 else first[:197] + "..."


def _ecosystem_ranges(record: Mapping[str, Any], package: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Return (ECOSYSTEM ranges, versions) of one OSV record for `package`, either schema."""
    ranges: list[dict[str, Any]] = []
    versions: list[str] = []
    if "affects" in record:  # the legacy schema of early PYSEC files: bare introduced/fixed keys
        for rng in record["affects"].get("ranges", []):
            if rng.get("type") == "ECOSYSTEM":
                events = [{"introduced": str(rng.get("introduced", "0"))}]
                events += [{k: str(rng[k])} for k in ("fixed", "last_affected") if k in rng]
                ranges.append({"type": "ECOSYSTEM", "events": events})
        versions = [str(v) for v in record["affects"].get("versions", [])]
    for affected in record.get("affected", []):
        if normalise(str(affected.get("package", {}).get("name", ""))) != package:
            continue
        for rng in affected.get("ranges", []):
            if rng.get("type") == "ECOSYSTEM":
                events = [{k: str(v) for k, v in event.items()} for event in rng.get("events", [])]
                ranges.append({"type": "ECOSYSTEM", "events": events})
        versions += [str(v) for v in affected.get("versions", [])]
    return ranges, versions


def build_snapshot(vulns: Path, pins: Iterable[tuple[str, str]], commit: str, gathered: str) -> dict[str, Any]:
    """Rebuild the snapshot from a local checkout's vulns/ folder (see docs/AUDIT.md).

    Keeps, for every pinned package, every advisory of its folder reduced to the fields the
    evaluator needs. `versions` is kept only where an advisory has no ECOSYSTEM range.
    """
    import yaml  # PyYAML is pinned in requirements.lock (Rasa needs it)

    packages: dict[str, Any] = {}
    for name, _ in sorted(set(pins)):
        folder = vulns / name
        files = sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.json"))
        advisories = []
        for path in files:
            record = yaml.safe_load(path.read_text(encoding="utf-8"))
            ranges, versions = _ecosystem_ranges(record, name)
            if not ranges and not versions:
                continue
            adv: dict[str, Any] = {
                "id": record["id"],
                "aliases": list(record.get("aliases", [])),
                "summary": _summary(record),
                "ranges": ranges,
                "path": f"vulns/{name}/{path.name}",
                "commit": commit,
            }
            if not ranges:
                adv["versions"] = versions
            if record.get("withdrawn"):
                adv["withdrawn"] = str(record["withdrawn"])
            advisories.append(adv)
        packages[name] = {
            "folder": f"vulns/{name}",
            "files_listed": len(files),
            "complete": True,
            "advisories": advisories,
        }
    return {
        "source": {
            "name": "PyPA Advisory Database",
            "repository": "https://github.com/pypa/advisory-database",
            "license": "CC-BY-4.0",
            "attribution": (
                "Advisory data from the PyPA Advisory Database (https://github.com/pypa/advisory-database), "
                "Python Packaging Authority and contributors, licensed CC-BY 4.0 "
                "(https://creativecommons.org/licenses/by/4.0/). Reduced to the fields below."
            ),
            "gathered": gathered,
            "method": f"Rebuilt with scripts/audit_offline.py --refresh-from from a checkout at {commit}.",
            "commits": [commit],
        },
        "packages": packages,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the offline audit; return the process exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lock", type=Path, default=DEFAULT_LOCK)
    parser.add_argument("--snapshot", type=Path, default=DEFAULT_SNAPSHOT)
    parser.add_argument("--accepted", type=Path, default=DEFAULT_ACCEPTED, help="docs/AUDIT.md")
    parser.add_argument(
        "--refresh-from",
        type=Path,
        metavar="VULNS_DIR",
        help="rebuild --snapshot from a checkout's vulns/ folder instead of auditing",
    )
    parser.add_argument("--commit", default="unknown", help="with --refresh-from: the checkout's commit")
    parser.add_argument("--date", default=None, help="with --refresh-from: the date gathered (default today)")
    args = parser.parse_args(argv)
    pins = read_lock(args.lock.read_text(encoding="utf-8"))
    if args.refresh_from:
        import datetime

        gathered = args.date or datetime.date.today().isoformat()
        built = build_snapshot(args.refresh_from, pins, args.commit, gathered)
        args.snapshot.write_text(json.dumps(built, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        kept = sum(len(p["advisories"]) for p in built["packages"].values())
        print(f"wrote {args.snapshot}: {len(built['packages'])} packages, {kept} advisories")
        return 0
    snapshot = json.loads(args.snapshot.read_text(encoding="utf-8"))
    ids, gaps = read_accepted(args.accepted.read_text(encoding="utf-8"))
    report = evaluate(pins, snapshot, ids, gaps)
    print(render(report, snapshot, len(pins)))
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
