"""The dashboard: conversations per day, top topics, fallback rate, offer reach, escalations."""

from __future__ import annotations

import datetime as dt
from typing import List

from sanic import Request
from sanic.response import HTTPResponse

from practice.console import queries
from practice.console.charts import column_chart, row_chart
from practice.console.views.conversations import quick_ranges
from practice.console.web import console, intent_label, list_url, render, run_db

DEFAULT_DAYS = 30
MAX_DAYS = 366


async def dashboard_page(request: Request) -> HTTPResponse:
    """Charts and rates for a date range (the last 30 days unless chosen)."""
    ctx = console(request)
    await ctx.summarizer.before_read()
    today = ctx.today()
    problems: List[str] = []
    chosen_from, chosen_to = queries.parse_dates({key: request.args.get(key) or "" for key in ("from", "to")}, problems)
    date_to = chosen_to or today
    date_from = chosen_from or date_to - dt.timedelta(days=DEFAULT_DAYS - 1)
    if date_from > date_to:  # only From chosen, after today
        date_to = date_from
    if date_from < date_to - dt.timedelta(days=MAX_DAYS - 1):
        problems.append(
            f"The dashboard shows at most {MAX_DAYS} days: the last {MAX_DAYS} days of the range are shown."
        )
        date_from = date_to - dt.timedelta(days=MAX_DAYS - 1)
    stats = await run_db(queries.dashboard, ctx.engine, date_from, date_to, ctx.tz)
    outcomes = await run_db(queries.topic_outcomes, ctx.engine, date_from, date_to, ctx.tz)
    every = max(1, len(stats.days) // 6)
    base = {"from": date_from.isoformat(), "to": date_to.isoformat()}

    def day_links(**extra: str) -> List[str]:
        return [list_url({"from": d.day.isoformat(), "to": d.day.isoformat(), **extra}) for d in stats.days]

    links = {
        "conversations": list_url(base),
        "fallback": list_url({**base, "fallback": "yes"}),
        "offered": list_url({**base, "offer": "yes"}),
        "clicked": list_url({**base, "offer": "yes", "clicked": "yes"}),
        "escalated": list_url({**base, "escalation": "yes"}),
    }
    per_day = column_chart(
        [(d.day.isoformat(), d.conversations) for d in stats.days], width=1300, label_every=every, links=day_links()
    )
    fallback_days = column_chart(
        [(d.day.isoformat(), 100 * d.with_fallback / d.conversations if d.conversations else 0) for d in stats.days],
        width=560,
        height=160,
        label_every=every,
        unit="%",
        links=day_links(fallback="yes"),
    )
    escalation_days = column_chart(
        [(d.day.isoformat(), d.escalated) for d in stats.days],
        width=560,
        height=160,
        label_every=every,
        links=day_links(escalation="yes"),
    )
    topics = row_chart(
        [(intent_label(name), count) for name, count in stats.topics],
        label_width=180,
        links=[list_url({**base, "intent": name}) for name, _ in stats.topics],
    )
    funnel = row_chart(
        [
            ("Conversations", stats.totals.conversations),
            ("Shown the closing offer", stats.totals.offered),
            ("Clicked the application link", stats.totals.clicked),
        ],
        links=[links["conversations"], links["offered"], links["clicked"]],
    )
    ranges = [{**r, "on": r["from"] == base["from"] and r["to"] == base["to"]} for r in quick_ranges(ctx, extra=True)]
    return render(
        request,
        "dashboard.html",
        stats=stats,
        per_day=per_day,
        fallback_days=fallback_days,
        escalation_days=escalation_days,
        topics=topics,
        funnel=funnel,
        date_from=date_from,
        date_to=date_to,
        problems=problems,
        links=links,
        quick_ranges=ranges,
        outcomes=outcomes,
        outcome_url=lambda intent, **extra: list_url({**base, "intent": intent, **extra}),
    )
