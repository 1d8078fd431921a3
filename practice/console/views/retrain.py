"""The console's staff pages for retraining: the NLU inbox, the annotations, the run reports.

Registered in `practice.console.pages.pages()` with `role=STAFF`; the console's guard does
sign-in, role and CSRF checks before any view here runs. The pages use no script (the
console's CSP allows none): bulk actions are checkboxes and buttons in one form.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any, Dict, List, Set, Tuple
from urllib.parse import parse_qsl, urlencode

import yaml
from sanic import Request
from sanic.response import HTTPResponse, file

from practice.console import audit
from practice.console.web import console, render, run_db, see_other
from practice.retrain import store
from practice.retrain.project import HOLDOUT_FILE, Project, known_texts, sha256_of

logger = logging.getLogger(__name__)
PAGE_SIZE = 50
MAX_KEYS = 2000
_KEY = re.compile(r"^[0-9a-f]{40}$")
_RUN_ID = re.compile(r"^\d{8}-\d{6}$")
ACTION_LABELS = {
    "confirm": "confirmed",
    "relabel": "relabelled",
    "out_of_scope": "marked out of scope",
    "discard": "discarded",
}


@dataclass
class _Cached:
    stamp: Tuple[Any, ...]
    known: Set[str]
    intents: List[str]


_cache: Dict[Path, _Cached] = {}


def _stamp(root: Path) -> Tuple[Any, ...]:
    files = sorted((root / "data").rglob("*.y*ml")) + [root / HOLDOUT_FILE, root / "domain.yml"]
    return tuple((str(f), f.stat().st_mtime_ns) for f in files if f.exists())


def domain_intents(root: Path) -> List[str]:
    """The intents of the project's domain, sorted."""
    domain = yaml.safe_load((root / "domain.yml").read_text("utf-8")) or {}
    names = []
    for entry in domain.get("intents") or []:
        names.append(next(iter(entry)) if isinstance(entry, dict) else str(entry))
    return sorted(names)


def project_data(root: Path) -> _Cached:
    """Known example texts and domain intents, re-read only when a data file changed."""
    stamp = _stamp(root)
    cached = _cache.get(root)
    if cached is None or cached.stamp != stamp:
        cached = _Cached(stamp, known_texts(root), domain_intents(root))
        _cache[root] = cached
    return cached


def _project(request: Request) -> Project:
    return Project.from_settings(console(request).settings)


async def _sync_all(engine: Any) -> None:
    """Read the whole backlog of visitor messages into the inbox, in short slices."""
    while True:
        try:
            result = await run_db(store.sync_inbox, engine, 5000, 2.0)
        except Exception:  # noqa: BLE001 - a database hiccup must not break the page
            logger.exception("Reading visitor messages into the NLU inbox failed")
            return
        if result.done:
            return
        await asyncio.sleep(0.2)


async def _sync(request: Request, wait: float = 1.5) -> bool:
    """Bring the inbox up to date in the background; True when it caught up within `wait` s.

    One background task per console process; a large backlog (the first visit after
    months of conversations) keeps being read while the page shows what is there.
    """
    ctx = request.app.ctx
    task = getattr(ctx, "retrain_sync_task", None)
    if task is None or task.done():
        task = asyncio.ensure_future(_sync_all(console(request).engine))
        ctx.retrain_sync_task = task
    try:
        await asyncio.wait_for(asyncio.shield(task), timeout=wait)
    except asyncio.TimeoutError:
        return False
    return True


def _number(value: str | None, default: int = 1) -> int:
    try:
        return max(1, min(int(value or default), 100_000))
    except ValueError:
        return default


def _confidence(value: str | None) -> float | None:
    try:
        return min(1.0, max(0.0, float(value))) if value not in (None, "") else None
    except ValueError:
        return None


async def inbox_page(request: Request) -> HTTPResponse:
    """Visitor messages not in the data, least certain first, near-duplicates grouped."""
    ctx = console(request)
    project = _project(request)
    caught_up = await _sync(request)
    data = await run_db(project_data, project.root)
    intent = (request.args.get("intent") or "").strip()[:255] or None
    search = (request.args.get("q") or "").strip()[:200]
    max_confidence = _confidence(request.args.get("max_confidence"))
    page_number = _number(request.args.get("page"))
    page = await run_db(
        store.inbox_page,
        ctx.engine,
        data.known,
        PAGE_SIZE,
        (page_number - 1) * PAGE_SIZE,
        1000,
        intent,
        max_confidence,
        search,
    )
    pending = await run_db(store.pending_annotations, ctx.engine)
    unhelpful = await run_db(store.unhelpful_answers, ctx.engine)
    filters = {
        k: v
        for k, v in (
            ("intent", intent or ""),
            ("max_confidence", request.args.get("max_confidence") or ""),
            ("q", search),
        )
        if v
    }
    return render(
        request,
        "retrain_inbox.html",
        page=page,
        page_number=page_number,
        page_size=PAGE_SIZE,
        intents=data.intents,
        intent=intent or "",
        search=search,
        max_confidence=request.args.get("max_confidence") or "",
        filters=filters,
        query=urlencode({**filters, "page": page_number}),
        page_url=lambda n: "/inbox?" + urlencode({**filters, "page": n}),
        pending=len(pending),
        low_confidence=ctx.settings.console_low_confidence,
        done=_number(request.args.get("done"), 0) if request.args.get("done") else 0,
        what=ACTION_LABELS.get(request.args.get("what") or "", ""),
        error=(request.args.get("error") or "")[:200],
        caught_up=caught_up,
        unhelpful=unhelpful,
    )


def _form_list(request: Request, name: str) -> List[str]:
    if not request.form:
        return []
    return [str(v) for v in (request.form.getlist(name) or [])]


def _form(request: Request, name: str) -> str:
    form = request.form or {}
    value = form.get(name)
    return "" if value is None else str(value)


def _members(request: Request, lead: str) -> List[str]:
    keys = [k for k in _form(request, f"members-{lead}").split() if _KEY.match(k)]
    return keys or ([lead] if _KEY.match(lead) else [])


def _back(request: Request, **extra: Any) -> str:
    query = _form(request, "back")
    values = dict(parse_qsl(query)) if query else {}
    allowed = {k: v for k, v in values.items() if k in ("intent", "max_confidence", "q", "page")}
    allowed.update({k: str(v) for k, v in extra.items()})
    return "/inbox?" + urlencode(allowed)


async def annotate_view(request: Request) -> HTTPResponse:
    """Record a decision for one group (its row's button) or for every ticked group."""
    ctx = console(request)
    project = _project(request)
    data = await run_db(project_data, project.root)
    intents = set(data.intents)
    row = _form(request, "row")
    if row:
        action, _, lead = row.partition(":")
        work = [(lead, _form(request, f"intent-{lead}") if action == "relabel" else None)]
    else:
        action = _form(request, "bulk")
        chosen = _form(request, "bulk_intent") if action == "relabel" else None
        work = [(lead, chosen) for lead in _form_list(request, "group")]
    if action not in store.ACTIONS:
        return see_other(_back(request, error="Choose an action."))
    if not work:
        return see_other(_back(request, error="Tick at least one message first."))
    username = request.ctx.session.account.username
    recorded = 0
    try:
        for lead, chosen in work[:MAX_KEYS]:
            keys = _members(request, lead)[:MAX_KEYS]
            intent = chosen
            found = await run_db(store.messages_by_keys, ctx.engine, [lead])
            if action == "confirm":
                intent = found[0].intent if found else None
            if action == "relabel" and not intent:
                return see_other(_back(request, error="Pick the intent to relabel with."))
            lead_message = found[0] if found else None
            # The decisions and their audit entry (one per message group: which message, its
            # intent before and after) are written in one transaction: both or neither.
            recorded += await run_db(
                audit.audited,
                ctx.engine,
                username,
                "nlu_annotate",
                None,
                partial(store.annotate, keys=keys, action=action, username=username, intents=intents, intent=intent),
                partial(annotation_detail, action, lead_message, intent=intent),
                changed=bool,
            )
    except store.AnnotationError as error:
        return see_other(_back(request, error=str(error)))
    return see_other(_back(request, done=recorded, what=action))


def annotation_detail(action: str, lead: store.InboxMessage | None, count: int, intent: str | None = None) -> str:
    """The audit text of one decision: the message, how many it covered, old -> new intent."""
    text = lead.text if lead else "?"
    text = text if len(text) <= 160 else text[:160] + "…"
    old = (lead.intent if lead else None) or "none"
    new = {"discard": "discarded (not in the data)", "out_of_scope": store.OUT_OF_SCOPE_INTENT}.get(
        action, intent or "none"
    )
    more = f" and {count - 1} similar" if count > 1 else ""
    return f'{ACTION_LABELS[action]} "{text}"{more}: {old} -> {new}'


async def annotated_page(request: Request) -> HTTPResponse:
    """Decisions waiting for `make retrain`, then the ones already in the data."""
    ctx = console(request)
    recent = await run_db(store.recent_annotations, ctx.engine, 300)
    return render(
        request,
        "retrain_annotated.html",
        pending=[a for a in recent if a.applied_run is None and a.action != "discard"],
        discarded=[a for a in recent if a.applied_run is None and a.action == "discard"],
        applied=[a for a in recent if a.applied_run is not None],
        labels=ACTION_LABELS,
        undone=_number(request.args.get("undone"), 0) if request.args.get("undone") else 0,
    )


async def undo_view(request: Request) -> HTTPResponse:
    """Forget not-yet-applied decisions: the messages go back to the inbox."""
    ctx = console(request)
    keys = [k for k in (_form_list(request, "key") + [_form(request, "one")]) if _KEY.match(k)]
    chosen = set(keys[:MAX_KEYS])
    undone = [a for a in await run_db(store.pending_annotations, ctx.engine, True) if a.key in chosen]
    removed = 0
    for item in undone:
        text = item.text if len(item.text) <= 160 else item.text[:160] + "…"
        # Each decision forgotten and its audit entry in one transaction: both or neither.
        removed += await run_db(
            audit.audited,
            ctx.engine,
            request.ctx.session.account.username,
            "nlu_undo",
            None,
            partial(store.undo, keys=[item.key]),
            changed=bool,
            detail=f'undid "{text}": {ACTION_LABELS.get(item.action, item.action)} as '
            f"{item.intent or 'none'} (predicted {item.predicted_intent or 'none'})",
        )
    return see_other(f"/inbox/annotated?undone={removed}")


# ---------------------------------------------------------------- retraining from the console
_RUN_LINE = re.compile(r"^Run (\d{8}-\d{6}) took", re.MULTILINE)
LOG_TAIL_LINES = 60
JOB_KINDS = {"retrain": "Retraining", "rollback": "Rollback"}
# The console's latest job, kept beside the runs: a console restarted during a run still
# shows its progress and, once it ends, its outcome.
JOB_FILE = "console-job.json"


@dataclass
class Job:
    """A `python -m practice.retrain retrain|rollback` the console started, and its outcome."""

    kind: str
    started_by: str
    started_at: float
    log: Path
    model_before: str | None
    finished_at: float | None = None
    exit_code: int | None = None
    outcome: str = ""
    run_id: str | None = None
    pid: int | None = None

    @property
    def running(self) -> bool:
        """True until the process has ended."""
        return self.finished_at is None

    def tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last lines of what the command printed (its progress, then its verdict)."""
        try:
            text = self.log.read_text("utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def save_job(job: Job, project: Project) -> None:
    """Write the job's record beside the runs (replacing the previous job's)."""
    record = {**asdict(job), "log": str(job.log)}
    path = project.runs_dir / JOB_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(record), "utf-8")
    temporary.replace(path)


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def load_job(project: Project) -> Job | None:
    """The latest job as recorded; one whose process is gone is finished, with its outcome."""
    path = project.runs_dir / JOB_FILE
    try:
        record = json.loads(path.read_text("utf-8"))
        job = Job(**{**record, "log": Path(record["log"])})
    except (OSError, ValueError, TypeError, KeyError):
        return None
    still_running = _alive(job.pid) and (_busy(project) or time.time() - job.started_at < 60)
    if job.running and not still_running:
        # Ended while no console watched it (the console restarted): its log and run say how.
        job.finished_at = job.log.stat().st_mtime if job.log.exists() else time.time()
        job.outcome, job.run_id = job_outcome(job, project)
        save_job(job, project)
    return job


def job_outcome(job: Job, project: Project) -> Tuple[str, str | None]:
    """What a finished job did, for the page and the audit log: (outcome, run id)."""
    text = job.log.read_text("utf-8", errors="replace") if job.log.exists() else ""
    found = _RUN_LINE.findall(text)
    run_id = found[-1] if found else None
    after = (sha256_of(project.current_model) or "")[:12] or "none"
    before = (job.model_before or "")[:12] or "none"
    if job.exit_code == 2:
        return "refused: another retraining or rollback was running", run_id
    if job.kind == "rollback":
        if "ROLLED BACK" in text:
            return f"rolled back: model {before} -> {after}", run_id
        reason = next(
            (line for line in text.splitlines() if line.startswith(("Nothing to roll back", "Refusing to roll back"))),
            "failed",
        )
        return f"not rolled back ({reason}); model {after}", run_id
    if "Nothing to retrain" in text:
        return f"nothing to retrain; model {after} unchanged", run_id
    result: Dict[str, Any] = {}
    if run_id and (project.runs_dir / run_id / "result.json").exists():
        result = json.loads((project.runs_dir / run_id / "result.json").read_text("utf-8"))
    if result.get("promoted"):
        return f"gate passed, promoted: model {before} -> {after} (run {run_id})", run_id
    if result and not result.get("passed"):
        reasons = "; ".join(result.get("reasons") or [])[:500]
        return f"gate refused ({reasons}); model {after} unchanged (run {run_id})", run_id
    if result:
        reasons = "; ".join(result.get("reasons") or [])[:500]
        return f"gate passed, not promoted ({reasons}); model {after} (run {run_id})", run_id
    return f"failed (exit code {job.exit_code}); model {after}", run_id


def _busy(project: Project) -> bool:
    """True when a retrain or rollback (from here or a terminal) holds the project's lock."""
    from practice.retrain.promotion import Busy, exclusive

    try:
        with exclusive(project):
            return False
    except Busy:
        return True


async def _watch(app: Any, job: Job, process: Any, project: Project, engine: Any) -> None:
    """Wait for the command; record its outcome on the job for the page.

    The command writes its verdict to the audit log itself, under the staff member's name
    (PRACTICE_RETRAIN_STARTED_BY), so a console restart during a run loses nothing.
    """
    try:
        job.exit_code = await asyncio.to_thread(process.wait)
    finally:
        # The outcome first: a page rendered in between shows the job running, never finished
        # with an empty verdict.
        job.outcome, job.run_id = await run_db(job_outcome, job, project)
        job.finished_at = time.time()
        await run_db(save_job, job, project)


async def current_job(request: Request) -> Job | None:
    """The job this console watches, else the latest one recorded beside the runs."""
    job: Job | None = getattr(request.app.ctx, "retrain_job", None)
    return job if job is not None else await run_db(load_job, _project(request))


async def start_job(request: Request) -> HTTPResponse:
    """Start `make retrain` (or `make rollback`) in the background: staff, one at a time."""
    ctx = console(request)
    kind = _form(request, "kind")
    if kind not in JOB_KINDS:
        return see_other("/retrain?" + urlencode({"error": "Choose retrain or rollback."}))
    project = _project(request)
    username = request.ctx.session.account.username
    current = await current_job(request)
    if current is not None and current.running:
        message = f"{JOB_KINDS[current.kind]} started by {current.started_by} is still running; wait for it to finish."
        await run_db(audit.record, ctx.engine, username, f"{kind}_refused", None, message)
        return see_other("/retrain?" + urlencode({"error": message}))
    if await run_db(_busy, project):
        message = "Another retraining or rollback is running (started from a terminal?); wait for it to finish."
        await run_db(audit.record, ctx.engine, username, f"{kind}_refused", None, message)
        return see_other("/retrain?" + urlencode({"error": message}))
    project.runs_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    job = Job(
        kind, username, time.time(), project.runs_dir / f"console-{stamp}-{kind}.log", sha256_of(project.current_model)
    )
    env = {
        **os.environ,
        "PYTHONWARNINGS": "ignore",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "RASA_TELEMETRY_ENABLED": "false",
        "PYTHONUNBUFFERED": "1",
        "PRACTICE_RETRAIN_STARTED_BY": username,
    }
    # A plain Popen waited on in a thread: the server's event loop (uvloop) need not reap it.
    with job.log.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "practice.retrain", kind],
            cwd=str(project.code_root),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    job.pid = process.pid
    request.app.ctx.retrain_job = job
    await run_db(save_job, job, project)
    await run_db(
        audit.record,
        ctx.engine,
        username,
        f"{kind}_started",
        None,
        f"model {(job.model_before or '')[:12] or 'none'}; log {job.log.name}",
    )
    request.app.ctx.retrain_watch = asyncio.ensure_future(_watch(request.app, job, process, project, ctx.engine))
    return see_other("/retrain")


def _runs(project: Project, limit: int = 30) -> List[Dict[str, Any]]:
    runs: List[Dict[str, Any]] = []
    if not project.runs_dir.exists():
        return runs
    for directory in sorted(project.runs_dir.iterdir(), reverse=True):
        result = directory / "result.json"
        if _RUN_ID.match(directory.name) and result.exists():
            try:
                runs.append(json.loads(result.read_text("utf-8")))
            except ValueError:
                continue
        if len(runs) >= limit:
            break
    return runs


def _serving(project: Project) -> Dict[str, Any]:
    from practice.rasa_runtime.hot_reload import serving_processes

    previous = project.previous_dir / "promotion.json"
    return {
        "sha": (sha256_of(project.current_model) or "")[:12],
        "rollback_run": json.loads(previous.read_text("utf-8"))["run_id"] if previous.exists() else None,
        "processes": serving_processes(project.model_dir),
    }


async def runs_page(request: Request) -> HTTPResponse:
    """Every retrain run: promoted or refused, and why."""
    project = _project(request)
    runs = await run_db(_runs, project)
    serving = await run_db(_serving, project)
    pending = await run_db(store.pending_annotations, console(request).engine)
    return render(
        request,
        "retrain_runs.html",
        runs=runs,
        serving=serving,
        pending=len(pending),
        job=await current_job(request),
        kinds=JOB_KINDS,
        error=(request.args.get("error") or "")[:300],
    )


def _run_dir(request: Request) -> Path | None:
    run_id = request.args.get("id") or ""
    if not _RUN_ID.match(run_id):
        return None
    directory = _project(request).runs_dir / run_id
    return directory if (directory / "report.json").exists() else None


async def run_page(request: Request) -> HTTPResponse:
    """One run's report: checks, new examples, scores, changed predictions, confusion matrix."""
    directory = _run_dir(request)
    if directory is None:
        return render(request, "error.html", status=404, message="There is no such run.")
    report = json.loads((directory / "report.json").read_text("utf-8"))
    return render(
        request,
        "retrain_run.html",
        r=report,
        run_id=directory.name,
        has_current_png=(directory / "confusion_current.png").exists(),
        has_candidate_png=(directory / "confusion_candidate.png").exists(),
    )


async def run_image(request: Request) -> HTTPResponse:
    """A run's confusion-matrix picture."""
    directory = _run_dir(request)
    which = request.args.get("which") or "candidate"
    if directory is None or which not in ("candidate", "current"):
        return render(request, "error.html", status=404, message="There is no such picture.")
    picture = directory / f"confusion_{which}.png"
    if not picture.exists():
        return render(request, "error.html", status=404, message="There is no such picture.")
    return await file(str(picture), mime_type="image/png")
