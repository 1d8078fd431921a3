"""What each NLU layer costs per message: `python -m bench.nlu_cost` (make bench-nlu-cost).

Parses the visitor messages of both blind sets' development halves with the served model
(the same sequential graph runner as production), timing every graph node per message,
then again with the question and sentence copies switched off, so the cost of reading
every sentence and every question on its own shows too. Prints a Markdown table; the
numbers are medians per message on this machine, read as orders of magnitude and as
ratios of one run.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections import defaultdict
from typing import Any, Dict, List

from practice.evaluation.conversations import newest_model
from practice.evaluation.scoring import load_cases
from practice.evaluation.targets import set_path

SAFETY_NODES = ("SafetyGuard", "QuestionSplitter", "QuestionMerger")


def messages() -> List[str]:
    """Every visitor message of the development halves."""
    texts: List[str] = []
    for name in ("safety", "understanding"):
        for case in load_cases(set_path(name, "dev")):
            texts.extend(case["turns"])
    return texts


def _timed_agent() -> Any:
    from rasa.core.agent import Agent

    from practice.rasa_runtime import performance

    performance.install()
    return Agent.load(str(newest_model()))


def measure(agent: Any, texts: List[str], split: bool) -> Dict[str, List[float]]:
    """Per node, the seconds each message spent there; "parse" is the whole parse."""
    from practice.nlu.question_parts import QuestionSplitter

    runner = agent.processor.graph_runner
    times: Dict[str, List[float]] = defaultdict(list)
    current: Dict[str, float] = defaultdict(float)
    for name, node in runner._instantiated_nodes.items():  # noqa: SLF001 - a benchmark's probe
        function = getattr(node, "_fn_original", node._fn)  # noqa: SLF001

        def timed(*args: Any, __fn: Any = function, __name: str = name, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return __fn(*args, **kwargs)
            finally:
                current[__name] += time.perf_counter() - started

        node._fn_original = function  # noqa: SLF001
        node._fn = timed  # noqa: SLF001
    real_process = QuestionSplitter.process
    if not split:
        QuestionSplitter.process = lambda self, messages: messages  # type: ignore[method-assign]
    loop = asyncio.new_event_loop()
    try:
        for text in texts:
            current.clear()
            started = time.perf_counter()
            loop.run_until_complete(agent.parse_message(text))
            times["parse"].append(time.perf_counter() - started)
            for name, seconds in current.items():
                times[name].append(seconds)
    finally:
        loop.close()
        QuestionSplitter.process = real_process  # type: ignore[method-assign]
    return times


def _node_label(name: str) -> str:
    return name.replace("run_", "").replace("practice.nlu.", "").rstrip("0123456789")


def main() -> int:
    """Print the table."""
    import logging

    from rasa.utils.log_utils import configure_structlog

    logging.disable(logging.CRITICAL)
    configure_structlog(logging.WARNING)  # Rasa logs every parse at debug level otherwise
    agent = _timed_agent()
    texts = messages()
    for text in texts[:20]:
        asyncio.run(agent.parse_message(text))  # warm up
    with_copies = measure(agent, texts, split=True)
    without_copies = measure(agent, texts, split=False)
    median_us = lambda values: statistics.median(values) * 1e6  # noqa: E731
    print(f"{len(texts)} messages (development halves of both blind sets), median µs per message\n")
    print("| graph node | with question and sentence copies | without |")
    print("|---|---:|---:|")
    for name in sorted(with_copies, key=lambda n: (n == "parse", n)):
        label = "whole parse" if name == "parse" else _node_label(name)
        print(f"| {label} | {median_us(with_copies[name]):.0f} | {median_us(without_copies.get(name, [0.0])):.0f} |")
    extra = median_us(with_copies["parse"]) - median_us(without_copies["parse"])
    guard = [n for n in with_copies if "SafetyGuard" in n]
    guard_us = median_us(with_copies[guard[0]]) if guard else 0.0
    print(f"\nreading every question and sentence on its own: +{extra:.0f} µs per message (median)")
    print(f"the safety patterns (SafetyGuard): {guard_us:.0f} µs per message (median)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
