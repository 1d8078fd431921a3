"""Staff-only pages: the audit log and the accounts."""

from __future__ import annotations

from sanic import Request
from sanic.response import HTTPResponse

from practice.console import audit
from practice.console import auth as accounts
from practice.console.web import console, form_value, render, run_db, see_other


def _page(value: str | None) -> int:
    try:
        return max(1, int(value or "1"))
    except ValueError:
        return 1


async def audit_page(request: Request) -> HTTPResponse:
    """Who signed in, viewed, changed or exported which conversations, newest first."""
    ctx = console(request)
    username = (request.args.get("user") or "").strip()[:64]
    sender_id = (request.args.get("conversation") or "").strip()[:255]
    page = _page(request.args.get("page"))
    found = await run_db(audit.entries, ctx.engine, username, sender_id, page)
    return render(request, "audit.html", entries=found, username=username,
                  sender_id=sender_id, page=page, page_size=audit.PAGE_SIZE)


async def accounts_page(request: Request) -> HTTPResponse:
    """Every account, its role, and whether it is locked."""
    ctx = console(request)
    return render(request, "accounts.html",
                  accounts=await run_db(accounts.list_accounts, ctx.engine))


async def unlock(request: Request) -> HTTPResponse:
    """Lift an account's lockout."""
    ctx = console(request)
    username = form_value(request, "username")[:64]
    try:
        await run_db(accounts.update_account, ctx.engine, username, unlock=True)
    except accounts.AccountError:
        return see_other("/accounts")
    await run_db(audit.record, ctx.engine, request.ctx.session.account.username, "unlocked",
                 None, username)
    return see_other("/accounts")
