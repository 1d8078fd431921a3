"""The offline dependency audit (scripts/audit_offline.py) and its committed advisory snapshot."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Dict, List

import pytest
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_offline", ROOT / "scripts" / "audit_offline.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["audit_offline"] = module
    spec.loader.exec_module(module)
    return module


audit = _load()


def advisory(id_: str = "PYSEC-2099-1", aliases: List[str] | None = None, **fields: Any) -> Dict[str, Any]:
    """A minimal OSV advisory in the snapshot's reduced form."""
    return {"id": id_, "aliases": aliases or [], "summary": "test advisory", **fields}


def rng(*events: tuple[str, str]) -> Dict[str, Any]:
    return {"type": "ECOSYSTEM", "events": [{kind: value} for kind, value in events]}


def snapshot(**packages: Any) -> Dict[str, Any]:
    return {"source": {"gathered": "2026-11-26"}, "packages": packages}


# ---- OSV range semantics -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "expected"),
    [("1.0.0", False), ("1.2.0", True), ("1.5.3", True), ("1.6.0", False), ("2.0", False)],
)
def test_introduced_fixed(version: str, expected: bool) -> None:
    adv = advisory(ranges=[rng(("introduced", "1.2.0"), ("fixed", "1.6.0"))])
    assert audit.is_affected(version, adv) is expected


@pytest.mark.parametrize(("version", "expected"), [("0.0.1", True), ("3.8.4", True), ("3.8.5", False)])
def test_introduced_zero_and_last_affected(version: str, expected: bool) -> None:
    adv = advisory(ranges=[rng(("introduced", "0"), ("last_affected", "3.8.4"))])
    assert audit.is_affected(version, adv) is expected


def test_introduced_zero_without_fix_affects_every_version() -> None:
    adv = advisory(ranges=[rng(("introduced", "0"))])
    assert audit.is_affected("0.1", adv)
    assert audit.is_affected("99.0.0", adv)


@pytest.mark.parametrize(
    ("version", "expected"),
    [("1.26.16", True), ("1.26.17", False), ("2.0.0", True), ("2.0.5", True), ("2.0.6", False), ("2.8.0", False)],
)
def test_several_intervals_in_one_range_in_any_order(version: str, expected: bool) -> None:
    # As urllib3's PYSEC-2023-192 stores them: the 2.x interval first, then the 1.x one.
    adv = advisory(ranges=[rng(("introduced", "2.0.0"), ("fixed", "2.0.6"), ("introduced", "0"), ("fixed", "1.26.17"))])
    assert audit.is_affected(version, adv) is expected


def test_versions_list() -> None:
    adv = advisory(versions=["1.0", "1.1.post1"])
    assert audit.is_affected("1.0.0", adv)  # equal as versions
    assert audit.is_affected("1.1.post1", adv)
    assert not audit.is_affected("1.1", adv)


def test_several_ranges_and_git_ranges_ignored() -> None:
    adv = advisory(
        ranges=[
            {"type": "GIT", "events": [{"introduced": "0"}, {"fixed": "abc123"}]},
            rng(("introduced", "1.8"), ("fixed", "1.8.2")),
            rng(("introduced", "0"), ("fixed", "1.6.2")),
        ]
    )
    assert audit.is_affected("1.8.1", adv)
    assert audit.is_affected("1.5", adv)
    assert not audit.is_affected("1.7", adv)
    assert not audit.is_affected("1.10.9", adv)


def test_fixed_in_lists_fix_versions_lowest_first() -> None:
    adv = advisory(ranges=[rng(("introduced", "2.0.0"), ("fixed", "2.0.7"), ("introduced", "0"), ("fixed", "1.26.18"))])
    assert audit.fixed_in(adv) == ["1.26.18", "2.0.7"]


# ---- acceptance, withdrawn, missing packages -------------------------------------------------


SNAP = snapshot(
    aiohttp={
        "complete": True,
        "advisories": [
            advisory(
                "PYSEC-2099-1",
                ["CVE-2099-0001", "GHSA-aaaa-bbbb-cccc"],
                ranges=[rng(("introduced", "0"), ("fixed", "4.0"))],
            ),
            advisory("PYSEC-2099-2", ["CVE-2099-0002"], ranges=[rng(("introduced", "0"), ("fixed", "4.0"))]),
            advisory("PYSEC-2099-3", withdrawn="2099-01-01", ranges=[rng(("introduced", "0"))]),
            advisory("PYSEC-2099-4", ranges=[rng(("introduced", "0"), ("fixed", "3.0"))]),
        ],
    },
    six={"complete": True, "advisories": []},
)


def test_unaccepted_finding_fails() -> None:
    report = audit.evaluate([("aiohttp", "3.9.5"), ("six", "1.17.0")], SNAP, set())
    assert [f.advisory_id for f in report.open_findings] == ["PYSEC-2099-1", "PYSEC-2099-2"]
    assert report.withdrawn_skipped == 1
    assert report.failed


def test_accepted_by_id_and_by_alias() -> None:
    report = audit.evaluate([("aiohttp", "3.9.5")], SNAP, {"PYSEC-2099-2", "GHSA-aaaa-bbbb-cccc"})
    assert not report.open_findings
    assert {f.accepted_as for f in report.accepted_findings} == {"PYSEC-2099-2", "GHSA-aaaa-bbbb-cccc"}
    assert not report.failed


def test_accepted_ids_read_from_the_audit_doc_rows() -> None:
    doc = (
        "| Advisory | Package | Why |\n|---|---|---|\n"
        "| GHSA-aaaa-bbbb-cccc | aiohttp 3.9.5 | reason |\n"
        "| CVE-2099-0002 | aiohttp 3.9.5 | reason |\n"
        "| gap:tensorflow | tensorflow 2.12.0 | reason |\n"
        "Text mentioning PYSEC-2099-4 outside a table row is not an acceptance.\n"
    )
    ids, gaps = audit.read_accepted(doc)
    assert ids == {"GHSA-AAAA-BBBB-CCCC", "CVE-2099-0002"}
    assert gaps == {"tensorflow"}
    report = audit.evaluate([("aiohttp", "3.9.5")], SNAP, ids, gaps)
    assert not report.failed


def test_unknown_package_fails() -> None:
    report = audit.evaluate([("six", "1.17.0"), ("brand-new-dep", "1.0")], SNAP, set())
    assert report.not_looked_up == ["brand-new-dep==1.0"]
    assert report.failed


def test_incomplete_entry_fails_unless_the_gap_is_accepted() -> None:
    snap = snapshot(tensorflow={"complete": False, "gap": "listing truncated", "advisories": []})
    assert audit.evaluate([("tensorflow", "2.12.0")], snap, set()).failed
    accepted = audit.evaluate([("tensorflow", "2.12.0")], snap, set(), {"tensorflow"})
    assert not accepted.failed
    assert accepted.accepted_gaps == {"tensorflow": "listing truncated"}


def test_main_exit_status_and_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "lock").write_text("aiohttp==3.9.5\nsix==1.17.0\n")
    (tmp_path / "snap.json").write_text(json.dumps(SNAP))
    (tmp_path / "AUDIT.md").write_text("| PYSEC-2099-1 | x | y |\n")
    args = ["--lock", str(tmp_path / "lock"), "--snapshot", str(tmp_path / "snap.json")]
    args += ["--accepted", str(tmp_path / "AUDIT.md")]
    assert audit.main(args) == 1
    out = capsys.readouterr().out
    assert "gathered 2026-11-26" in out and "can miss newer advisories" in out
    assert "PYSEC-2099-2" in out and "FAIL" in out
    (tmp_path / "AUDIT.md").write_text("| PYSEC-2099-1 | x | y |\n| CVE-2099-0002 | x | y |\n")
    assert audit.main(args) == 0


def test_read_lock_normalises_names_and_ignores_comments() -> None:
    text = "# header\nPyYAML==6.0.4\nruamel.yaml==0.17.21  # via rasa\n"
    text += "huggingface_hub==2.4.0 ; python_version >= '3.8'\n"
    assert audit.read_lock(text) == [("pyyaml", "6.0.4"), ("ruamel-yaml", "0.17.21"), ("huggingface-hub", "2.4.0")]


# ---- the committed snapshot against the committed lock ------------------------------------------


def test_every_locked_package_has_a_snapshot_entry() -> None:
    pins = audit.read_lock((ROOT / "requirements.lock").read_text())
    snap = json.loads((ROOT / "security" / "pypa-advisories.json").read_text())
    missing = [name for name, _ in pins if name not in snap["packages"]]
    assert not missing, f"refresh security/pypa-advisories.json for: {missing}"


def test_snapshot_records_provenance_and_parses() -> None:
    snap = json.loads((ROOT / "security" / "pypa-advisories.json").read_text())
    source = snap["source"]
    assert source["repository"] == "https://github.com/pypa/advisory-database"
    assert source["license"] == "CC-BY-4.0" and "CC-BY 4.0" in source["attribution"]
    assert source["gathered"] and source["commits"]
    for name, entry in snap["packages"].items():
        for adv in entry["advisories"]:
            assert adv["commit"] in source["commits"], (name, adv["id"])
            for r in adv["ranges"]:
                for event in r["events"]:
                    ((kind, value),) = event.items()
                    assert kind in {"introduced", "fixed", "last_affected"}
                    Version(value)


def test_committed_lock_passes_with_the_committed_acceptances() -> None:
    pins = audit.read_lock((ROOT / "requirements.lock").read_text())
    snap = json.loads((ROOT / "security" / "pypa-advisories.json").read_text())
    ids, gaps = audit.read_accepted((ROOT / "docs" / "AUDIT.md").read_text())
    report = audit.evaluate(pins, snap, ids, gaps)
    assert not report.failed, audit.render(report, snap, len(pins))


def test_refresh_from_a_checkout_reads_both_schemas(tmp_path: Path) -> None:
    vulns = tmp_path / "vulns"
    (vulns / "aiohttp").mkdir(parents=True)
    (vulns / "aiohttp" / "PYSEC-2099-1.yaml").write_text(
        "id: PYSEC-2099-1\naliases: [CVE-2099-0001]\ndetails: Request smuggling. More text.\n"
        "affected:\n- package: {name: aiohttp, ecosystem: PyPI}\n  ranges:\n"
        "  - type: GIT\n    events: [{introduced: '0'}, {fixed: abc}]\n"
        "  - type: ECOSYSTEM\n    events: [{introduced: '0'}, {fixed: 3.9.2}]\n  versions: ['3.9.1']\n"
    )
    (vulns / "aiohttp" / "PYSEC-2021-1.yaml").write_text(
        "id: PYSEC-2021-1\nsummary: Vulnerability in aiohttp\ndetails: Open redirect.\n"
        "affects:\n  ranges:\n  - type: ECOSYSTEM\n    fixed: 3.7.4\n"
    )
    built = audit.build_snapshot(vulns, [("aiohttp", "3.9.5"), ("six", "1.17.0")], "c0ffee", "2026-11-26")
    advisories = {a["id"]: a for a in built["packages"]["aiohttp"]["advisories"]}
    assert advisories["PYSEC-2099-1"]["ranges"] == [
        {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.9.2"}]}
    ]
    assert advisories["PYSEC-2099-1"]["summary"] == "Request smuggling."
    assert advisories["PYSEC-2021-1"]["ranges"][0]["events"] == [{"introduced": "0"}, {"fixed": "3.7.4"}]
    assert built["packages"]["six"] == {"folder": "vulns/six", "files_listed": 0, "complete": True, "advisories": []}
    assert audit.is_affected("3.9.1", advisories["PYSEC-2099-1"])
    assert not audit.is_affected("3.9.5", advisories["PYSEC-2099-1"])
