"""Staff commands: `python -m practice.retrain retrain|rollback|status|sync|inbox`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from practice.settings import get_settings
from practice.store.database import create_engine


def _say(text: str) -> None:
    print(text, flush=True)


def _audit(engine: Engine, action: str, detail: str) -> None:
    """Write the verdict to the console's audit log: under the staff member's name when the
    console's Retraining page started the run (PRACTICE_RETRAIN_STARTED_BY), else as
    `command-line` (as the accounts command does). The command writes it itself, so the
    verdict is logged even if the console restarts while the run goes on."""
    import os

    from practice.console import audit

    who = os.environ.get("PRACTICE_RETRAIN_STARTED_BY") or "command-line"
    try:
        audit.record(engine, who[:64], action, None, detail)
    except sa.exc.SQLAlchemyError as error:  # the log must not fail a finished run
        _say(f"(could not write the audit log: {error})")


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m practice.retrain", description=__doc__)
    parser.add_argument(
        "--project",
        type=Path,
        default=None,
        help="the assistant's project directory (default: this repository)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    retrain = sub.add_parser("retrain", help="approved annotations -> candidate -> gate -> promote")
    retrain.add_argument("--no-promote", action="store_true", help="run every check, promote nothing")
    retrain.add_argument("--force", action="store_true", help="retrain even with nothing new")
    sub.add_parser("rollback", help="put back the model (and data) the last promotion replaced")
    sub.add_parser("status", help="the served model, the one kept for rollback, pending annotations")
    sub.add_parser("sync", help="read new visitor messages into the inbox")
    inbox = sub.add_parser("inbox", help="print the inbox, least certain first")
    inbox.add_argument("--limit", type=int, default=20)
    args = parser.parse_args(argv)

    from practice.retrain import pipeline, promotion, store
    from practice.retrain.project import Project, known_texts, sha256_of

    settings = get_settings()
    project = Project.from_settings(settings, args.project)
    engine = create_engine(settings.database_url)
    store.ensure_schema(engine)
    if args.command == "sync":
        synced = store.sync_inbox(engine)
        _say(f"Read {synced.events_read} visitor messages; {synced.messages} distinct.")
        return 0
    if args.command in ("retrain", "rollback"):
        before = (sha256_of(project.current_model) or "")[:12] or "none"
        try:
            with promotion.exclusive(project):
                if args.command == "rollback":
                    done = promotion.rollback(project, engine, settings, say=_say)
                    after = (sha256_of(project.current_model) or "")[:12] or "none"
                    _audit(
                        engine,
                        "rollback_finished",
                        f"rolled back: model {before} -> {after}" if done else f"not rolled back; model {after}",
                    )
                    return 0 if done else 1
                store.sync_inbox(engine)
                run = pipeline.Retrain(project, engine, settings, say=_say)
                result = run.run(promote=not args.no_promote, force=args.force)
        except promotion.Busy as error:
            _say(str(error))
            _audit(engine, f"{args.command}_refused", str(error))
            return 2
        after = (sha256_of(project.current_model) or "")[:12] or "none"
        if result.nothing_to_do:
            verdict = f"nothing to retrain; model {after} unchanged"
        elif result.promoted:
            verdict = f"gate passed, promoted: model {before} -> {after} (run {result.run_id})"
        elif result.passed:
            verdict = f"gate passed, not promoted; model {after} (run {result.run_id})"
        else:
            reasons = "; ".join(result.reasons)[:500]
            verdict = f"gate refused ({reasons}); model {after} unchanged (run {result.run_id})"
        _audit(engine, "retrain_finished", verdict)
        if result.nothing_to_do:
            return 0
        return 0 if result.passed and (result.promoted or args.no_promote) else 1
    if args.command == "inbox":
        store.sync_inbox(engine)
        page = store.inbox_page(engine, known_texts(project.root), limit=args.limit)
        _say(f"{page.total_groups} groups, {page.total_messages} messages")
        for group in page.groups:
            lead = group.lead
            confidence = "-" if lead.confidence is None else f"{lead.confidence:.2f}"
            _say(f"  {confidence:>5}  {lead.intent or '-':28} x{group.count:<4} {lead.text}")
            for member in group.members[1:]:
                _say(f"  {'':5}  {'':28}       ~ {member.text}")
        return 0
    from practice.rasa_runtime.hot_reload import serving_processes

    previous = project.previous_dir / "promotion.json"
    state = {
        "current_model": str(project.current_model) if project.current_model.exists() else None,
        "current_sha256": sha256_of(project.current_model),
        "rollback_to_before_run": json.loads(previous.read_text())["run_id"] if previous.exists() else None,
        "pending_annotations": len(store.pending_annotations(engine)),
        "serving_processes": serving_processes(project.model_dir),
    }
    _say(json.dumps(state, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
