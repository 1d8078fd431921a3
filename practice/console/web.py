"""What every view shares: the console's context, templates, database calls off the event loop."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, TypeVar
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from sanic import Request
from sanic.log import logger
from sanic.response import HTTPResponse, html, redirect
from sqlalchemy.engine import Engine

from practice.console import queries, summary
from practice.settings import Settings

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
SESSION_COOKIE = "practice_console_session"
LOGIN_CSRF_COOKIE = "practice_console_login_csrf"
T = TypeVar("T")


async def run_db(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking database call in a worker thread, keeping the event loop free."""
    return await asyncio.to_thread(function, *args, **kwargs)


@dataclass
class Summarizer:
    """Keeps the summary tables caught up: in the background, and just before a page reads."""

    engine: Engine
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    behind: int = 0
    last_run: float = 0.0

    async def catch_up(self, budget_seconds: float) -> int:
        """Fold new events for at most about `budget_seconds`; return how many ids remain."""
        async with self.lock:
            result = await run_db(summary.refresh, self.engine, budget_seconds)
            self.behind = result.behind
            self.last_run = time.monotonic()
        return self.behind

    async def before_read(self) -> None:
        """Make a page current, unless the summary was refreshed a moment ago."""
        if time.monotonic() - self.last_run > 0.5 or self.behind:
            await self.catch_up(0.25)

    async def run_forever(self, interval: float = 2.0) -> None:
        """Background loop: catch up in short slices so pages never wait long."""
        while True:
            try:
                behind = await self.catch_up(1.0)
            except Exception:  # noqa: BLE001 - a database hiccup must not end the loop
                logger.exception("Could not update the conversation summary; retrying")
                behind = 0
                await asyncio.sleep(interval * 5)
            await asyncio.sleep(0.05 if behind else interval)


@dataclass
class ConsoleContext:
    """The console's long-lived parts, made once when the server starts."""

    settings: Settings
    engine: Engine
    templates: Environment
    summarizer: Summarizer
    # The navigation entries a role may open (practice.console.pages.navigation, handed in
    # by the app so pages and views, which import this module, are not imported back).
    navigation: Callable[[str], Sequence[Any]] = lambda _role: []
    _intents: Tuple[float, List[str]] = (0.0, [])

    async def known_intents(self, max_age: float = 60.0) -> List[str]:
        """The intent filter's choices, re-read at most once a minute (a full index scan)."""
        read_at, intents = self._intents
        if not intents or time.monotonic() - read_at > max_age:
            intents = await run_db(queries.known_intents, self.engine)
            self._intents = (time.monotonic(), intents)
        return intents

    @property
    def tz(self) -> ZoneInfo:
        """The practice's time zone, for dates shown and date filters."""
        return ZoneInfo(self.settings.console_timezone)

    def today(self) -> dt.date:
        """Today's date in the practice's time zone."""
        return dt.datetime.now(self.tz).date()


def make_templates(settings: Settings) -> Environment:
    """Jinja with autoescaping everywhere: visitor text is always inert in the page."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    tz = ZoneInfo(settings.console_timezone)
    env.filters["when"] = functools.partial(_when, tz=tz)
    env.filters["pct"] = lambda value: f"{100 * value:.1f}%"
    env.filters["conf"] = lambda value: "—" if value is None else f"{value:.2f}"
    env.globals["urlencode"] = lambda values: urlencode(values)
    env.filters["topic"] = topic_label
    env.filters["intent_label"] = intent_label
    env.filters["highlight"] = highlight
    return env


def topic_label(intent: Optional[str]) -> str:
    """A topic intent as the pages show it: `ask_foods_to_eat` -> "foods to eat"."""
    if not intent:
        return "—"
    name = intent[len(summary.TOPIC_PREFIX) :] if intent.startswith(summary.TOPIC_PREFIX) else intent
    return name.replace("_", " ")


# Friendly names for the intents that are not topics (topics read as their name: ask_gluten
# -> "gluten"); the raw name stays in the title attribute and in exports.
INTENT_LABELS = {
    "nlu_fallback": "not understood (fallback)",
    "greet": "greeting",
    "goodbye": "goodbye",
    "thank": "thanks",
    "affirm": "yes",
    "deny": "no",
    "out_of_scope": "out of scope",
    "bot_challenge": "are you a bot?",
    "ask_topics": "what can you help with",
    "request_coach": "asks for a coach",
    "report_red_flag_symptoms": "red-flag symptoms (safety)",
    "express_self_harm": "self-harm (safety)",
    "mention_disordered_eating": "disordered eating (safety)",
    "ask_beyond_article": "beyond the article",
}


def intent_label(intent: Optional[str]) -> str:
    """The friendly label of an intent, the same on every page."""
    if not intent or intent == "—":
        return "—"
    if intent in INTENT_LABELS:
        return INTENT_LABELS[intent]
    return topic_label(intent)


def highlight(text: str, term: str) -> Markup:
    """`text` escaped, with each case-insensitive occurrence of `term` in a <mark>."""
    if not term:
        return Markup.escape(text)
    folded, needle = text.casefold(), term.casefold()
    if len(folded) != len(text):  # casefolding changed lengths (ß -> ss): no offsets to trust
        return Markup.escape(text)
    parts, start = [], 0
    while True:
        found = folded.find(needle, start)
        if found < 0:
            break
        parts.append(Markup.escape(text[start:found]))
        parts.append(Markup("<mark>%s</mark>") % text[found : found + len(needle)])
        start = found + len(needle)
    parts.append(Markup.escape(text[start:]))
    return Markup("").join(parts)


def _when(timestamp: Optional[float], tz: ZoneInfo, seconds: bool = False) -> str:
    if timestamp is None:
        return "—"
    fmt = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    return dt.datetime.fromtimestamp(timestamp, tz).strftime(fmt)


def console(request: Request) -> ConsoleContext:
    """The console context of the app serving this request."""
    return request.app.ctx.console


def query_values(request: Request) -> Dict[str, str]:
    """The query string as single values (first wins)."""
    return {key: request.args.get(key) for key in request.args}


def form_value(request: Request, name: str, default: str = "") -> str:
    """One form field of a POST (urlencoded), or `default`."""
    form = request.form or {}
    value = form.get(name)
    return default if value is None else str(value)


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTTPResponse:
    """Render a page with what every page needs: the user, their CSRF token, the navigation."""
    ctx = console(request)
    session = getattr(request.ctx, "session", None)
    body = ctx.templates.get_template(template).render(
        user=session.account if session else None,
        csrf_token=session.csrf_token if session else "",
        nav=ctx.navigation(session.account.role) if session else [],
        path=request.path,
        behind=ctx.summarizer.behind,
        timezone=ctx.settings.console_timezone,
        **context,
    )
    return html(body, status=status)


def see_other(url: str) -> HTTPResponse:
    """Redirect after a POST so reloading the page does not post again."""
    return redirect(url, status=303)


def safe_next(value: Optional[str], default: str = "/conversations") -> str:
    """A same-site path to go back to after signing in (never another host)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


def list_url(values: Mapping[str, str]) -> str:
    """The conversation list's URL for a filter's query values."""
    return "/conversations" + ("?" + urlencode(values) if values else "")


def expire_cookie(response: HTTPResponse, name: str, path: str) -> None:
    """Tell the browser to drop a cookie now."""
    response.cookies[name] = ""
    response.cookies[name]["path"] = path
    response.cookies[name]["max-age"] = 0
    response.cookies[name]["httponly"] = True
