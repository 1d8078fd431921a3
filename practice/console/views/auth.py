"""Signing in and out."""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from sanic import Request
from sanic.response import HTTPResponse, file

from practice.console import audit
from practice.console import auth as accounts
from practice.console.db import accounts as accounts_table
from practice.console.web import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    STATIC_DIR,
    console,
    expire_cookie,
    form_value,
    render,
    run_db,
    safe_next,
    see_other,
)


def _has_accounts(engine: sa.engine.Engine) -> bool:
    with engine.connect() as connection:
        return connection.execute(sa.select(accounts_table.c.id).limit(1)).first() is not None


async def _login_page(request: Request, status: int = 200, error: str = "", username: str = "") -> HTTPResponse:
    ctx = console(request)
    token = secrets.token_urlsafe(32)
    response = render(
        request,
        "login.html",
        status=status,
        error=error,
        username=username,
        login_csrf=token,
        next=safe_next(request.args.get("next") or form_value(request, "next")),
        no_accounts=not await run_db(_has_accounts, ctx.engine),
    )
    # Double-submit token: the form must echo the value of this cookie.
    response.cookies[LOGIN_CSRF_COOKIE] = token
    cookie = response.cookies[LOGIN_CSRF_COOKIE]
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["path"] = "/login"
    cookie["max-age"] = 3600
    if ctx.settings.console_secure_cookies:
        cookie["secure"] = True
    return response


async def login_form(request: Request) -> HTTPResponse:
    """The sign-in form (or straight on, when already signed in)."""
    if request.ctx.session is not None:
        return see_other(safe_next(request.args.get("next")))
    return await _login_page(request)


async def login(request: Request) -> HTTPResponse:
    """Check the password; open a session, or say why not."""
    ctx = console(request)
    username = form_value(request, "username").strip().lower()[:64]
    if not accounts.tokens_match(request.cookies.get(LOGIN_CSRF_COOKIE), form_value(request, "login_csrf")):
        return await _login_page(request, 403, "The form expired; please try again.", username)
    result = await run_db(
        accounts.authenticate,
        ctx.engine,
        username,
        form_value(request, "password"),
        ctx.settings.console_lockout_attempts,
        ctx.settings.console_lockout_minutes * 60,
    )
    if result.outcome != "ok" or result.account is None:
        await run_db(audit.record, ctx.engine, username or "-", f"login_{result.outcome}")
        # One answer for a wrong password, an unknown or disabled username and a locked
        # account: the sign-in form must not tell which usernames exist.
        message = (
            "Wrong username or password. After "
            f"{ctx.settings.console_lockout_attempts} failed sign-ins in a row an account "
            f"is locked for {ctx.settings.console_lockout_minutes:g} minutes; staff can "
            "unlock it."
        )
        return await _login_page(request, 401, message, username)
    token = await run_db(accounts.start_session, ctx.engine, result.account, ctx.settings.console_session_hours)
    await run_db(audit.record, ctx.engine, result.account.username, "login")
    response = see_other(safe_next(form_value(request, "next")))
    response.cookies[SESSION_COOKIE] = token
    cookie = response.cookies[SESSION_COOKIE]
    cookie["httponly"] = True
    cookie["samesite"] = "Lax"
    cookie["path"] = "/"
    cookie["max-age"] = int(ctx.settings.console_session_hours * 3600)
    if ctx.settings.console_secure_cookies:
        cookie["secure"] = True
    expire_cookie(response, LOGIN_CSRF_COOKIE, "/login")
    return response


async def logout(request: Request) -> HTTPResponse:
    """End the session and forget the cookie."""
    ctx = console(request)
    await run_db(accounts.end_session, ctx.engine, request.cookies.get(SESSION_COOKIE))
    await run_db(audit.record, ctx.engine, request.ctx.session.account.username, "logout")
    response = see_other("/login")
    expire_cookie(response, SESSION_COOKIE, "/")
    return response


async def favicon(request: Request) -> HTTPResponse:
    """The console's icon (browsers ask for /favicon.ico; it was a 404)."""
    return await file(
        str(STATIC_DIR / "favicon.ico"), mime_type="image/x-icon", headers={"Cache-Control": "public, max-age=86400"}
    )
