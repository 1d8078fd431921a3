"""Where it fails: the visitor messages the assistant fell back on, was unsure of, or did not
cover, grouped by similar text, with links to their conversations."""

from __future__ import annotations

import datetime as dt
from typing import List

from sanic import Request
from sanic.response import HTTPResponse

from practice.console import queries
from practice.console.views.conversations import quick_ranges
from practice.console.web import console, render, run_db

DEFAULT_DAYS = 30
MAX_DAYS = 366
REASON_LABELS = {
    "fallback": "fell back",
    "low": "low confidence",
    "not_covered": "not covered",
}
CONVERSATIONS_SHOWN = 5


async def failures_page(request: Request) -> HTTPResponse:
    """The failing messages of a date range (the last 30 days unless chosen), grouped."""
    ctx = console(request)
    await ctx.summarizer.before_read()
    problems: List[str] = []
    chosen_from, chosen_to = queries.parse_dates({key: request.args.get(key) or "" for key in ("from", "to")}, problems)
    date_to = chosen_to or ctx.today()
    date_from = chosen_from or date_to - dt.timedelta(days=DEFAULT_DAYS - 1)
    date_to = max(date_to, date_from)
    date_from = max(date_from, date_to - dt.timedelta(days=MAX_DAYS - 1))
    reason = request.args.get("reason") or ""
    reason = reason if reason in REASON_LABELS else ""
    low = ctx.settings.console_low_confidence
    report = await run_db(queries.failing_messages, ctx.engine, date_from, date_to, ctx.tz, low, reason)
    base = {"from": date_from.isoformat(), "to": date_to.isoformat()}
    ranges = [{**r, "on": r["from"] == base["from"] and r["to"] == base["to"]} for r in quick_ranges(ctx, extra=True)]
    return render(
        request,
        "failures.html",
        report=report,
        date_from=date_from,
        date_to=date_to,
        reason=reason,
        reasons=REASON_LABELS,
        problems=problems,
        quick_ranges=ranges,
        low_confidence=low,
        shown=CONVERSATIONS_SHOWN,
    )
