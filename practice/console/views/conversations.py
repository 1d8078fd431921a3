"""The conversation list, a transcript, review marks, tags, notes and exports."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any, Dict, Iterator, List, Optional
from urllib.parse import parse_qsl, urlencode

from sanic import Request
from sanic.response import HTTPResponse, redirect

from practice.console import audit, queries
from practice.console import review as marks
from practice.console.export import csv_chunks, json_chunks
from practice.console.queries import ConversationFilter, ConversationRow
from practice.console.web import (
    ConsoleContext,
    console,
    form_value,
    list_url,
    query_values,
    render,
    run_db,
    see_other,
)


async def home(request: Request) -> HTTPResponse:
    """The console opens on the conversation list."""
    return redirect("/conversations")


def quick_ranges(ctx: ConsoleContext, extra: bool = False) -> List[Dict[str, str]]:
    """One-click date ranges (the dashboard's `extra` ones add 90 days and calendar months)."""
    today = ctx.today()
    ranges = [
        ("Today", today, today),
        ("Yesterday", today - dt.timedelta(days=1), today - dt.timedelta(days=1)),
        ("Last 7 days", today - dt.timedelta(days=6), today),
        ("Last 30 days", today - dt.timedelta(days=29), today),
    ]
    if extra:
        month_start = today.replace(day=1)
        last_month_end = month_start - dt.timedelta(days=1)
        ranges += [
            ("Last 90 days", today - dt.timedelta(days=89), today),
            ("This month", month_start, today),
            ("Last month", last_month_end.replace(day=1), last_month_end),
        ]
    return [{"label": label, "from": start.isoformat(), "to": end.isoformat()} for label, start, end in ranges]


def _page_number(value: Optional[str]) -> int:
    try:
        return max(1, min(int(value or "1"), 1_000_000))
    except ValueError:
        return 1


def _count(value: Optional[str]) -> int:
    try:
        return max(0, min(int(value or "0"), 1_000_000_000))
    except ValueError:
        return 0


async def conversation_list(request: Request) -> HTTPResponse:
    """The filtered, paged list of conversations, newest first."""
    ctx = console(request)
    raw = query_values(request)
    flt = ConversationFilter.from_query(raw)
    if any(value == "" for _, value in parse_qsl(request.query_string, keep_blank_values=True)):
        # The filter form sends every field; drop the empty ones for a short, shareable URL.
        canonical = flt.to_query()
        if flt.problems:
            # Keep what the coach typed, so the page can say what was wrong with it.
            canonical.update({k: raw[k] for k in ("from", "to", "q") if raw.get(k)})
        if raw.get("page", "") not in ("", "1"):
            canonical["page"] = raw["page"]
        return redirect(list_url(canonical))
    await ctx.summarizer.before_read()
    page = await run_db(
        queries.list_conversations,
        ctx.engine,
        flt,
        ctx.tz,
        ctx.settings.console_low_confidence,
        _page_number(request.args.get("page")),
    )
    snippets = await run_db(queries.search_snippets, ctx.engine, [row.sender_id for row in page.rows], flt.search)
    intents = await ctx.known_intents()
    if flt.intent and flt.intent not in intents:
        intents = sorted([*intents, flt.intent])
    tags = await run_db(marks.all_tags, ctx.engine)
    values = flt.to_query()
    deleted_tag = (request.args.get("deleted_tag") or "")[:64]
    return render(
        request,
        "conversations.html",
        flt=flt,
        page=page,
        values=values,
        deleted_tag=deleted_tag,
        max_search=queries.MAX_SEARCH_CHARS,
        snippets=snippets,
        removed=_count(request.args.get("removed")) if deleted_tag else 0,
        intents=intents,
        tags=tags,
        quick_ranges=quick_ranges(ctx),
        back=urlencode({**values, "page": str(page.page)}),
        low_confidence=ctx.settings.console_low_confidence,
        page_url=lambda number: list_url({**values, "page": str(number)}),
        export_query=urlencode(values),
    )


def _back_link(back: str) -> str:
    """The list URL a transcript returns to, rebuilt from a parsed filter (never raw input)."""
    values = dict(parse_qsl(back or ""))
    rebuilt = ConversationFilter.from_query(values).to_query()
    page = _page_number(values.get("page"))
    if page > 1:
        rebuilt["page"] = str(page)
    return list_url(rebuilt)


async def transcript_page(request: Request) -> HTTPResponse:
    """Every event of one conversation, with its review mark, tags and note."""
    ctx = console(request)
    sender_id = (request.args.get("id") or "")[:255]
    await ctx.summarizer.before_read()
    found = await run_db(queries.transcript, ctx.engine, sender_id) if sender_id else None
    if found is None:
        return render(request, "error.html", status=404, message="There is no such conversation.")
    await run_db(audit.record, ctx.engine, request.ctx.session.account.username, "view", sender_id)
    back = request.args.get("back") or ""
    flt = ConversationFilter.from_query(dict(parse_qsl(back)))
    low = ctx.settings.console_low_confidence
    newer, older = await run_db(queries.neighbours, ctx.engine, sender_id, flt, ctx.tz, low)
    internals = request.args.get("internals") == "1"

    def here(**changes: str) -> str:
        values = {"id": sender_id, "back": back, "internals": "1" if internals else ""}
        values.update(changes)
        return "/conversation?" + urlencode({k: v for k, v in values.items() if v})

    return render(
        request,
        "transcript.html",
        t=found,
        all_tags=await run_db(marks.all_tags, ctx.engine),
        back=back,
        back_url=_back_link(back),
        low_confidence=low,
        error=request.args.get("error") or "",
        internals=internals,
        search=flt.search,
        note=await run_db(queries.note_info, ctx.engine, sender_id),
        newer_url=here(id=newer) if newer else "",
        older_url=here(id=older) if older else "",
        toggle_url=here(internals="" if internals else "1"),
    )


def _transcript_url(sender_id: str, back: str, anchor: str = "review", error: str = "") -> str:
    values = {"id": sender_id}
    if back:
        values["back"] = back
    if error:
        values["error"] = error
    return "/conversation?" + urlencode(values) + "#" + anchor


async def review(request: Request) -> HTTPResponse:
    """Mark a conversation reviewed (or not)."""
    ctx = console(request)
    sender_id = form_value(request, "id")[:255]
    reviewed = form_value(request, "reviewed") == "1"
    user = request.ctx.session.account.username
    action = "reviewed" if reviewed else "unreviewed"
    await run_db(
        audit.audited,
        ctx.engine,
        user,
        action,
        sender_id,
        lambda connection: marks.set_reviewed(connection, sender_id, user, reviewed),
    )
    return see_other(_transcript_url(sender_id, form_value(request, "back")))


async def tag(request: Request) -> HTTPResponse:
    """Put a tag on a conversation."""
    ctx = console(request)
    sender_id = form_value(request, "id")[:255]
    user = request.ctx.session.account.username
    wanted = form_value(request, "tag")
    try:
        await run_db(
            audit.audited,
            ctx.engine,
            user,
            "tagged",
            sender_id,
            lambda connection: marks.add_tag(connection, sender_id, wanted, user),
            lambda name: name,
        )
    except marks.ReviewError:
        return see_other(_transcript_url(sender_id, form_value(request, "back"), error="tag"))
    return see_other(_transcript_url(sender_id, form_value(request, "back")))


async def untag(request: Request) -> HTTPResponse:
    """Take a tag off a conversation."""
    ctx = console(request)
    sender_id = form_value(request, "id")[:255]
    name = form_value(request, "tag")
    user = request.ctx.session.account.username
    await run_db(
        audit.audited,
        ctx.engine,
        user,
        "untagged",
        sender_id,
        lambda connection: marks.remove_tag(connection, sender_id, name),
        name[:64],
    )
    return see_other(_transcript_url(sender_id, form_value(request, "back")))


async def delete_tag(request: Request) -> HTTPResponse:
    """Delete a tag from every conversation (and from the suggestions)."""
    ctx = console(request)
    name = form_value(request, "tag")[:64]
    user = request.ctx.session.account.username
    removed = await run_db(
        audit.audited,
        ctx.engine,
        user,
        "tag_deleted",
        None,
        lambda connection: marks.delete_tag(connection, name),
        lambda count: f"{name} (was on {count} conversation(s))",
    )
    return see_other(list_url({"deleted_tag": name, "removed": str(removed)}))


async def note(request: Request) -> HTTPResponse:
    """Save (or clear) the conversation's note."""
    ctx = console(request)
    sender_id = form_value(request, "id")[:255]
    user = request.ctx.session.account.username
    text = form_value(request, "note")
    try:
        await run_db(
            audit.audited,
            ctx.engine,
            user,
            "noted",
            sender_id,
            lambda connection: marks.set_note(connection, sender_id, text, user),
        )
    except marks.ReviewError:
        return see_other(_transcript_url(sender_id, form_value(request, "back"), error="note"))
    return see_other(_transcript_url(sender_id, form_value(request, "back")))


async def _stream(request: Request, kind: str, content_type: str, render_chunks: Any) -> HTTPResponse:
    """Stream an export chunk by chunk, then audit exactly which conversations it held."""
    ctx = console(request)
    await ctx.summarizer.before_read()
    flt = ConversationFilter.from_query(query_values(request))
    stamp = ctx.today().isoformat()
    exported: List[str] = []

    def chunks() -> Iterator[List[ConversationRow]]:
        for chunk in queries.iter_conversations(ctx.engine, flt, ctx.tz, ctx.settings.console_low_confidence):
            exported.extend(row.sender_id for row in chunk)
            yield chunk

    parts = render_chunks(chunks(), ctx)
    response = await request.respond(
        content_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="conversations-{stamp}.{kind}"'},
    )
    try:
        while True:
            part = await asyncio.to_thread(next, parts, None)
            if part is None:
                break
            await response.send(part)
        await response.eof()
    finally:
        await run_db(
            audit.record_export,
            ctx.engine,
            request.ctx.session.account.username,
            f"export_{kind}",
            flt.describe(),
            exported,
        )
    return response


async def export_csv(request: Request) -> HTTPResponse:
    """The filtered conversations as CSV, one row each."""
    return await _stream(request, "csv", "text/csv; charset=utf-8", lambda chunks, ctx: csv_chunks(chunks, ctx.tz))


async def export_json(request: Request) -> HTTPResponse:
    """The filtered conversations as JSON, each with its messages."""
    return await _stream(
        request,
        "json",
        "application/json; charset=utf-8",
        lambda chunks, ctx: json_chunks(chunks, ctx.tz, lambda ids: queries.messages_for(ctx.engine, ids)),
    )
