"""What DomainGate costs: µs per message at run time and seconds at training time.

    .venv/bin/python -m bench.domain_gate_cost [model]

Run time: the loaded model's gate (`process`, one message at a time, as the server calls
it) over the development half's last turns and the held-out phrasings, best of 5 rounds.
Training time: `train` on data/ (NLU files) alone, chitchat reading included, best of 3.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from rasa.core.agent import Agent
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message

from practice.nlu.domain_gate import DomainGate

ROOT = Path(__file__).resolve().parents[1]


def texts() -> list:
    """Every development last turn and held-out phrasing."""
    dev = ROOT / "tests" / "understanding" / "dev.jsonl"
    rows = [json.loads(line)["turns"][-1] for line in dev.read_text("utf-8").splitlines() if line.strip()]
    hold = [m.get("text") for m in load_data(str(ROOT / "tests" / "nlu" / "holdout.yml")).intent_examples]
    return rows + hold


def main(model: str) -> None:
    """Print µs per message and training seconds."""
    agent = Agent.load(model)
    gate = next(
        node._component
        for name, node in agent.processor.graph_runner._instantiated_nodes.items()
        if "DomainGate" in name
    )
    sample = texts()
    best = float("inf")
    for _ in range(5):
        messages = [
            Message(data={"text": t, "intent": {"name": "ask_gluten", "confidence": 0.9}, "intent_ranking": []})
            for t in sample
        ]
        start = time.perf_counter()
        for m in messages:
            gate.process([m])
        best = min(best, time.perf_counter() - start)
    print(f"run time: {best / len(sample) * 1e6:.1f} µs per message ({len(sample)} messages, best of 5)")
    data = load_data(str(ROOT / "data" / "nlu.yml")).merge(load_data(str(ROOT / "data" / "nlu_out_of_scope.yml")))
    train_best = float("inf")
    for i in range(3):
        with tempfile.TemporaryDirectory() as tmp:
            fresh = DomainGate.create(
                {**DomainGate.get_default_config(), **gate._config},
                LocalModelStorage(Path(tmp)),
                Resource(f"gate{i}"),
                ExecutionContext(GraphSchema({}), node_name="gate"),
            )
            start = time.perf_counter()
            fresh.train(data)
            train_best = min(train_best, time.perf_counter() - start)
    print(f"training time: {train_best:.1f} s (best of 3)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "models" / "current.tar.gz"))
