"""`python -m practice.evaluation understanding|safety [--half dev|sealed] [--show-failures]`."""

from __future__ import annotations

import argparse
import sys
import time

from practice.evaluation.conversations import action_server, load_agent, newest_model, play_all
from practice.evaluation.scoring import (
    conversations_of,
    failing,
    load_cases,
    safety_report,
    table,
    understanding_report,
)
from practice.evaluation.targets import SAFETY_TARGETS, UNDERSTANDING_TARGETS, set_path
from practice.settings import get_settings


def main() -> int:
    """Play one half of a blind set, print its table; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("set", choices=("understanding", "safety"))
    parser.add_argument("--half", choices=("dev", "sealed"), default="dev")
    parser.add_argument("--show-failures", action="store_true")
    args = parser.parse_args()
    cases = load_cases(set_path(args.set, args.half))
    started = time.monotonic()
    with action_server() as url:
        agent = load_agent(newest_model(), url)
        played = play_all(agent, conversations_of(cases))
    if args.set == "understanding":
        tallies, targets = understanding_report(cases, played), UNDERSTANDING_TARGETS
    else:
        url = get_settings().coaching_application_url
        tallies, targets = safety_report(cases, played, url), SAFETY_TARGETS
    print(f"## {args.set}, {args.half} half: {len(cases)} cases in {time.monotonic() - started:.0f} s\n")
    print(table(tallies, targets))
    if args.show_failures:
        by_id = {c["id"]: (c, t) for c, t in zip(cases, played, strict=True)}
        for name in sorted(tallies):
            for case_id in tallies[name].failures:
                case, turns = by_id[case_id]
                said = " | ".join(",".join(t.actions) for t in turns)
                print(f"FAIL {name} {case_id}: {case['turns']!r} -> {said}")
    missed = failing(tallies, targets)
    for name, rate, target in missed:
        print(f"missed: {name} {rate:.1%} < {target:.0%}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
