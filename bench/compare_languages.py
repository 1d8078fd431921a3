"""Language identifiers for short chat messages, compared: accuracy, time, memory.

python -m bench.compare_languages                 the table, printed
python -m bench.compare_languages --write-docs    ... and put into docs/LANGUAGES.md

`make bench-languages` installs the candidates that are not in requirements.lock
(bench/languages-candidates.txt) into build/lang-candidates, outside .venv, and runs
this. Each candidate runs in its own process, so its import time and memory are its
own. The set is bench/data/languages.jsonl: short visitor-style messages in English,
Spanish, French and a few other languages, written for this comparison (tags:
`short` = one or two words, `foreign_words` = English with foreign food words or names).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data" / "languages.jsonl"
CANDIDATES_DIR = ROOT / "build" / "lang-candidates"
DOC = ROOT / "docs" / "LANGUAGES.md"
BEGIN, END = "<!-- table: begin -->", "<!-- table: end -->"
SIX = ["en", "es", "fr", "de", "pt", "it"]
REPEATS = 15  # each message is classified this many times; its time is the median

# name -> (what it is, factory); a factory returns classify(text) -> ISO 639-1 code
CANDIDATES: Dict[str, str] = {
    "langid-all": "langid 1.1.6, all 97 languages",
    "langid-6": "langid 1.1.6, restricted to EN ES FR DE PT IT",
    "py3langid-all": "py3langid 0.2.2, all 97 languages",
    "py3langid-6": "py3langid 0.2.2, restricted to EN ES FR DE PT IT",
    "lingua-6": "lingua 2.1.1, EN ES FR DE PT IT, high accuracy",
    "lingua-6-low": "lingua 2.1.1, EN ES FR DE PT IT, low accuracy mode",
    "lingua-all": "lingua 2.1.1, all 75 languages, high accuracy",
    "ours": "LanguageDetector: lingua-6 + short-message word list + French elisions + margin 0.1 over English",
    "ours-low": "LanguageDetector on lingua-6-low (same rules)",
    "rules-py3langid-6": "LanguageDetector's rules (decide()) on py3langid-6's probabilities",
}


def rss_kib() -> int:
    """This process's resident memory (VmRSS) in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _langid(module: str, restricted: bool) -> Callable[[str], str]:
    if module == "langid":
        from langid.langid import LanguageIdentifier, model

        identifier = LanguageIdentifier.from_modelstring(model, norm_probs=True)
    else:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        identifier = LanguageIdentifier.from_pickled_model(MODEL_FILE, norm_probs=True)
    if restricted:
        identifier.set_languages(SIX)
    return lambda text: identifier.classify(text)[0]


def _lingua(codes: Sequence[str] | None, low: bool) -> Callable[[str], str]:
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    if codes is None:
        builder = LanguageDetectorBuilder.from_all_languages()
    else:
        builder = LanguageDetectorBuilder.from_languages(
            *[Language.from_iso_code_639_1(IsoCode639_1.from_str(c)) for c in codes]
        )
    builder = builder.with_preloaded_language_models()
    if low:
        builder = builder.with_low_accuracy_mode()
    detector = builder.build()

    def classify(text: str) -> str:
        language = detector.detect_language_of(text)
        return language.iso_code_639_1.name.lower() if language is not None else "??"

    return classify


def _ours(low: bool) -> Callable[[str], str]:
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.constants import TEXT
    from rasa.shared.nlu.training_data.message import Message

    from practice.nlu.language_detector import LANGUAGE, LanguageDetector

    config = {**LanguageDetector.get_default_config(), "low_accuracy_mode": low}
    component = LanguageDetector.create(
        config,
        LocalModelStorage(Path("/tmp")),
        Resource("language_detector"),
        ExecutionContext(GraphSchema({}), node_name="language_detector"),
    )

    def classify(text: str) -> str:
        # the whole component step, as the pipeline runs it
        message = Message(data={TEXT: text})
        component.process([message])
        return message.get(LANGUAGE)

    return classify


def _rules_on_py3langid() -> Callable[[str], str]:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    from practice.nlu.language_detector import LanguageDetector, decide, has_french_elision, words_of

    identifier = LanguageIdentifier.from_pickled_model(MODEL_FILE, norm_probs=True)
    identifier.set_languages(SIX)
    config = LanguageDetector.get_default_config()

    def classify(text: str) -> str:
        words = words_of(text)
        if not words:
            return "en"
        short = len(words) <= config["short_max_words"] and text.isascii() and not has_french_elision(text)
        confidences = {} if short else dict(identifier.rank(text))
        return decide(text, words, confidences, config["languages"], config["min_margin"], config["short_max_words"])[0]

    return classify


def build(name: str) -> Callable[[str], str]:
    """The classify function of a candidate (its imports happen here)."""
    if name in ("langid-all", "langid-6", "py3langid-all", "py3langid-6"):
        return _langid(name.split("-")[0], restricted=name.endswith("-6"))
    if name == "lingua-all":
        return _lingua(None, low=False)
    if name.startswith("lingua-6"):
        return _lingua(SIX, low=name.endswith("-low"))
    if name.startswith("ours"):
        return _ours(low=name.endswith("-low"))
    if name == "rules-py3langid-6":
        return _rules_on_py3langid()
    raise SystemExit(f"unknown candidate {name!r}")


def run_one(name: str, rows: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    """Load one candidate in this process, classify the set, time each message."""
    if name.startswith(("ours", "rules")):
        # Rasa's own import cost is not the detector's: take it before measuring.
        import rasa.engine.graph  # noqa: F401
        import rasa.engine.storage.local_model_storage  # noqa: F401
        import rasa.shared.nlu.training_data.message  # noqa: F401

        import practice.nlu.language_detector  # noqa: F401
    before = rss_kib()
    start = time.perf_counter()
    classify = build(name)
    classify("warm up: a first message")
    load_s = time.perf_counter() - start
    memory_mib = (rss_kib() - before) / 1024
    predictions, times = [], []
    for row in rows:
        text = row["text"]
        samples = []
        for _ in range(REPEATS):
            t0 = time.perf_counter_ns()
            predicted = classify(text)
            samples.append(time.perf_counter_ns() - t0)
        predictions.append(predicted)
        times.append(statistics.median(samples) / 1000)
    return {"name": name, "load_s": load_s, "memory_mib": memory_mib, "predictions": predictions, "us": times}


def share(hits: int, total: int) -> str:
    """`hits/total (pct)` for a table cell."""
    return f"{hits}/{total} ({100 * hits / total:.0f}%)" if total else "-"


def metrics(rows: Sequence[Dict[str, Any]], result: Dict[str, Any]) -> Dict[str, str]:
    """The table cells of one candidate."""
    pairs: List[Tuple[Dict[str, Any], str]] = list(zip(rows, result["predictions"], strict=True))

    def acc(select: Callable[[Dict[str, Any]], bool]) -> str:
        chosen = [(r, p) for r, p in pairs if select(r)]
        return share(sum(p == r["lang"] for r, p in chosen), len(chosen))

    english = [(r, p) for r, p in pairs if r["lang"] == "en"]
    foreign = [(r, p) for r, p in english if "foreign_words" in r["tags"]]
    others = [(r, p) for r, p in pairs if r["lang"] != "en"]
    us = sorted(result["us"])
    return {
        "all": acc(lambda r: True),
        "en kept en": share(sum(p == "en" for _, p in english), len(english)),
        "en w/ foreign words kept": share(sum(p == "en" for _, p in foreign), len(foreign)),
        "es": acc(lambda r: r["lang"] == "es"),
        "fr": acc(lambda r: r["lang"] == "fr"),
        "de pt it nl": acc(lambda r: r["lang"] not in ("en", "es", "fr")),
        "not-en flagged": share(sum(p != "en" for _, p in others), len(others)),
        "1-2 words": acc(lambda r: "short" in r["tags"]),
        "µs/msg median": f"{statistics.median(us):.0f}",
        "µs/msg p95": f"{us[int(0.95 * (len(us) - 1))]:.0f}",
        "load s": f"{result['load_s']:.2f}",
        "memory MiB": f"{result['memory_mib']:.0f}",
    }


def table(rows: Sequence[Dict[str, Any]], results: Sequence[Dict[str, Any]]) -> str:
    """The comparison as a Markdown table."""
    cells = [metrics(rows, r) for r in results]
    header = ["candidate", *cells[0].keys()]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for result, cell in zip(results, cells, strict=True):
        lines.append(f"| {result['name']} | " + " | ".join(cell.values()) + " |")
    return "\n".join(lines)


def misses(rows: Sequence[Dict[str, Any]], result: Dict[str, Any]) -> List[str]:
    """The messages a candidate got wrong, for reading."""
    return [
        f"  {r['lang']} -> {p}: {r['text']}" for r, p in zip(rows, result["predictions"], strict=True) if p != r["lang"]
    ]


def sweep(rows: Sequence[Dict[str, Any]]) -> str:
    """LanguageDetector's two settings tried over the set (lingua-6, high accuracy)."""
    from practice.nlu.language_detector import LanguageDetector, build_detector, decide, words_of

    config = LanguageDetector.get_default_config()
    detector = build_detector(config)
    confidences = [
        {v.language.iso_code_639_1.name.lower(): v.value for v in values}
        for values in (detector.compute_language_confidence_values(r["text"]) for r in rows)
    ]
    lines = [
        "| min_margin | short_max_words | all | en kept en | not-en flagged |",
        "|---|---|---|---|---|",
    ]
    english = sum(r["lang"] == "en" for r in rows)
    for margin in (0.0, 0.05, 0.1, 0.15, 0.2, 0.3):
        for short in (0, 1, 2, 3):
            right = kept = flagged = 0
            for row, conf in zip(rows, confidences, strict=True):
                words = words_of(row["text"])
                language, _ = decide(row["text"], words, conf, config["languages"], margin, short)
                right += language == row["lang"]
                kept += row["lang"] == "en" and language == "en"
                flagged += row["lang"] != "en" and language != "en"
            lines.append(
                f"| {margin} | {short} | {share(right, len(rows))} | {share(kept, english)} "
                f"| {share(flagged, len(rows) - english)} |"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidate", help="run one candidate in this process, print JSON")
    parser.add_argument("--only", nargs="*", default=list(CANDIDATES), help="candidates to run")
    parser.add_argument("--write-docs", action="store_true", help="put the table into docs/LANGUAGES.md")
    parser.add_argument("--sweep", action="store_true", help="LanguageDetector's settings over the set")
    parser.add_argument("--misses", action="store_true", help="list each candidate's wrong answers")
    args = parser.parse_args(argv)
    rows = [json.loads(line) for line in DATA.read_text("utf-8").splitlines() if line.strip()]

    if args.sweep:
        print(sweep(rows))
        return 0
    if args.candidate:
        sys.path.insert(0, str(CANDIDATES_DIR))
        print(json.dumps(run_one(args.candidate, rows)))
        return 0

    results = []
    for name in args.only:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        env = {**os.environ, "PYTHONWARNINGS": "ignore", "TF_CPP_MIN_LOG_LEVEL": "3"}
        done = subprocess.run(
            [sys.executable, "-m", "bench.compare_languages", "--candidate", name],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            print(f"{name} failed:\n{done.stderr[-2000:]}", file=sys.stderr)
            continue
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    if not results:
        return 1
    counts = {lang: sum(r["lang"] == lang for r in rows) for lang in ("en", "es", "fr")}
    summary = (
        f"{len(rows)} messages ({counts['en']} en, {counts['es']} es, {counts['fr']} fr, "
        f"{len(rows) - sum(counts.values())} de/pt/it/nl); time = median of {REPEATS} runs "
        f"per message, then median and p95 over messages; memory = RSS growth for loading "
        f"the candidate and its model; load = import + model load + first message."
    )
    rendered = table(rows, results)
    print(summary + "\n\n" + rendered)
    print("\n".join(f"- {n}: {CANDIDATES[n]}" for n in (r["name"] for r in results)))
    if args.misses:
        for result in results:
            print(f"\n{result['name']} wrong:")
            print("\n".join(misses(rows, result)))
    if args.write_docs:
        text = DOC.read_text("utf-8")
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        legend = "\n".join(f"- **{n}**: {CANDIDATES[n]}" for n in (r["name"] for r in results))
        DOC.write_text(f"{head}{BEGIN}\n{summary}\n\n{rendered}\n\n{legend}\n{END}{tail}", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
