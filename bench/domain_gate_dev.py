"""The trained model (models/current.tar.gz) on the development half and the held-out set.

    .venv/bin/python -m bench.domain_gate_dev [model]

Parses the last turn of every tests/understanding/dev.jsonl case (read for error
analysis, never the sealed half) and every tests/nlu/holdout.yml phrasing, and prints:
off-topic handled as out_of_scope (and as out_of_scope or nlu_fallback), in-domain cases
not turned into out_of_scope, held-out accuracy, and the domain_score of each error.
Results: var/bench/domain_gate_dev.json.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from rasa.core.agent import Agent
from rasa.shared.nlu.training_data.loading import load_data

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "tests" / "understanding" / "dev.jsonl"
HOLDOUT = ROOT / "tests" / "nlu" / "holdout.yml"
OUT = ROOT / "var" / "bench" / "domain_gate_dev.json"


def main(model: str) -> None:
    """Parse, count, print."""
    agent = Agent.load(model)
    rows = [json.loads(line) for line in DEV.read_text("utf-8").splitlines() if line.strip()]
    hold = [(m.get("text"), m.get("intent")) for m in load_data(str(HOLDOUT)).intent_examples]

    async def parse(texts):
        return [await agent.parse_message(t) for t in texts]

    dev = asyncio.run(parse([r["turns"][-1] for r in rows]))
    held = asyncio.run(parse([t for t, _ in hold]))
    off = [(r, p) for r, p in zip(rows, dev, strict=False) if r["category"] == "off_topic"]
    ins = [(r, p) for r, p in zip(rows, dev, strict=False) if r["category"] != "off_topic"]
    oos = sum(p["intent"]["name"] == "out_of_scope" for _, p in off)
    oos_fb = sum(p["intent"]["name"] in ("out_of_scope", "nlu_fallback") for _, p in off)
    kept = sum(p["intent"]["name"] != "out_of_scope" for _, p in ins)
    right = sum(p["intent"]["name"] == i for (_, i), p in zip(hold, held, strict=False))
    result = {
        "dev_off_topic_out_of_scope": oos / len(off),
        "dev_off_topic_out_of_scope_or_fallback": oos_fb / len(off),
        "dev_in_domain_kept": kept / len(ins),
        "holdout_accuracy": right / len(hold),
        "counts": {
            "off": len(off),
            "in": len(ins),
            "holdout": len(hold),
            "oos": oos,
            "oos_fb": oos_fb,
            "kept": kept,
            "right": right,
        },
        "off_topic_missed": [
            (r["turns"][-1], p["intent"]["name"], p.get("domain_score"))
            for r, p in off
            if p["intent"]["name"] != "out_of_scope"
        ],
        "in_domain_lost": [
            (r["category"], r["turns"][-1], p.get("domain_score"))
            for r, p in ins
            if p["intent"]["name"] == "out_of_scope"
        ],
        "holdout_wrong": [
            (t, i, p["intent"]["name"], p.get("domain_score"))
            for (t, i), p in zip(hold, held, strict=False)
            if p["intent"]["name"] != i
        ],
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=1), "utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "off_topic_missed"}, indent=1))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "models" / "current.tar.gz"))
