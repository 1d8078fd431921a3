"""The console benchmark itself, small: every page it times answers, on SQLite."""

from __future__ import annotations

from bench import console_bench


def test_the_benchmark_times_every_page_including_the_staff_pages(capsys) -> None:
    assert console_bench.main(["--backends", "sqlite", "--conversations", "300", "--runs", "1", "--no-write"]) == 0
    printed = capsys.readouterr().out
    for name, _path in console_bench.cases(console_bench.dt.date.today(), 300):
        assert f"| {name} |" in printed, name
    assert "NLU inbox, search: common (bloating)" in printed
    assert "distinct messages" in printed
