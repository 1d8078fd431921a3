"""Staff-only pages: the audit log and the accounts."""

from __future__ import annotations

from typing import Any, Callable, Dict
from urllib.parse import urlencode

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
    return render(
        request,
        "audit.html",
        entries=found,
        username=username,
        sender_id=sender_id,
        page=page,
        page_size=audit.PAGE_SIZE,
    )


async def accounts_page(request: Request) -> HTTPResponse:
    """Every account, its role, whether it is locked; forms to create and change them."""
    ctx = console(request)
    return render(
        request,
        "accounts.html",
        accounts=await run_db(accounts.list_accounts, ctx.engine),
        roles=accounts.ROLES,
        me=request.ctx.session.account.username,
        done=(request.args.get("done") or "")[:200],
        error=(request.args.get("error") or "")[:200],
        min_password=accounts.MIN_PASSWORD_LENGTH,
    )


def _back(done: str = "", error: str = "") -> HTTPResponse:
    values = {k: v for k, v in (("done", done), ("error", error)) if v}
    return see_other("/accounts" + ("?" + urlencode(values) if values else ""))


def _new_password(request: Request) -> str:
    password = form_value(request, "password")
    if password != form_value(request, "password_again"):
        raise accounts.AccountError("the two passwords differ")
    return password


async def create_account(request: Request) -> HTTPResponse:
    """Create an account: the same rules as `python -m practice.console.accounts create`."""
    ctx = console(request)
    try:
        username = form_value(request, "username")[:64]
        password = _new_password(request)
        role = form_value(request, "role")
        # The account and its audit entry are written in one transaction: both or neither.
        account = await run_db(
            audit.audited,
            ctx.engine,
            request.ctx.session.account.username,
            "account_created",
            None,
            lambda connection: accounts.create_account(connection, username, password, role),
            lambda created: f"{created.username} ({created.role})",
        )
    except accounts.AccountError as error:
        return _back(error=f"Not created: {error}.")
    return _back(done=f"Created the {account.role} account {account.username}.")


CHANGES = {
    "disable": "disabled",
    "enable": "re-enabled",
    "set-role": "given a new role",
    "set-password": "given a new password (its sessions ended)",
    "unlock": "unlocked",
}


async def change_account(request: Request) -> HTTPResponse:
    """Disable, re-enable, unlock, change the role or reset the password of an account.

    The same changes as the accounts command; a staff member cannot disable or demote their
    own account (another staff member can), so the console always keeps someone in charge.
    """
    ctx = console(request)
    me = request.ctx.session.account.username
    username = form_value(request, "username").strip().lower()[:64]
    change = form_value(request, "change")
    if change not in CHANGES:
        return _back(error="Choose a change.")
    role = form_value(request, "role")
    if username == me and (change == "disable" or (change == "set-role" and role != "staff")):
        return _back(error="You cannot disable or demote your own account; ask another staff member.")
    try:
        changes: Dict[str, Callable[[], Dict[str, Any]]] = {
            "disable": lambda: {"active": False},
            "enable": lambda: {"active": True},
            "set-role": lambda: {"role": role},
            "set-password": lambda: {"password": _new_password(request)},
            "unlock": lambda: {"unlock": True},
        }
        values = changes[change]()
        # The change and its audit entry are written in one transaction: both or neither.
        account = await run_db(
            audit.audited,
            ctx.engine,
            me,
            f"account_{change}",
            None,
            lambda connection: accounts.update_account(connection, username, **values),
            lambda changed: changed.username + (f" -> {changed.role}" if change == "set-role" else ""),
        )
    except accounts.AccountError as error:
        return _back(error=f"Not changed: {error}.")
    return _back(done=f"{account.username} {CHANGES[change]}.")


async def unlock(request: Request) -> HTTPResponse:
    """Lift an account's lockout."""
    ctx = console(request)
    username = form_value(request, "username")[:64]
    try:
        await run_db(
            audit.audited,
            ctx.engine,
            request.ctx.session.account.username,
            "unlocked",
            None,
            lambda connection: accounts.update_account(connection, username, unlock=True),
            username,
        )
    except accounts.AccountError:
        return see_other("/accounts")
    return _back(done=f"{username} unlocked.")
