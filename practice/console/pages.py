"""Every page of the console in one place: its path, who may open it, its navigation label.

To add a page (the NLU inbox, say): write its view in `practice/console/views/`, then add a
`Page` to `pages()` below, with `role=STAFF` if coaches must not reach it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Awaitable, Callable, List, Optional, Tuple

from sanic import Request
from sanic.response import HTTPResponse

from practice.console.auth import role_allows
from practice.console.views import auth, conversations, dashboard, failures, retrain, staff

PUBLIC: Optional[str] = None
COACH = "coach"
STAFF = "staff"
Handler = Callable[..., Awaitable[HTTPResponse]]


@dataclass(frozen=True)
class Page:
    """A route of the console and the least role that may use it."""

    path: str
    name: str
    handler: Handler
    methods: Tuple[str, ...] = ("GET",)
    role: Optional[str] = COACH
    nav: Optional[str] = None


def pages() -> List[Page]:
    """The console's routes, navigation entries in the order shown."""
    return [
        Page("/login", "login_form", auth.login_form, role=PUBLIC),
        Page("/login", "login", auth.login, methods=("POST",), role=PUBLIC),
        Page("/logout", "logout", auth.logout, methods=("POST",)),
        Page("/favicon.ico", "favicon", auth.favicon, role=PUBLIC),
        Page("/", "home", conversations.home),
        Page("/conversations", "conversations", conversations.conversation_list, nav="Conversations"),
        Page("/conversation", "transcript", conversations.transcript_page),
        Page("/conversation/review", "review", conversations.review, methods=("POST",)),
        Page("/conversation/tag", "tag", conversations.tag, methods=("POST",)),
        Page("/conversation/untag", "untag", conversations.untag, methods=("POST",)),
        Page("/tags/delete", "delete_tag", conversations.delete_tag, methods=("POST",)),
        Page("/conversation/note", "note", conversations.note, methods=("POST",)),
        Page("/export.csv", "export_csv", conversations.export_csv),
        Page("/export.json", "export_json", conversations.export_json),
        Page("/dashboard", "dashboard", dashboard.dashboard_page, nav="Dashboard"),
        Page("/failures", "failures", failures.failures_page, nav="Where it fails"),
        Page("/audit", "audit", staff.audit_page, role=STAFF, nav="Audit log"),
        Page("/accounts", "accounts", staff.accounts_page, role=STAFF, nav="Accounts"),
        Page("/accounts/unlock", "unlock", staff.unlock, methods=("POST",), role=STAFF),
        Page("/accounts/create", "account_create", staff.create_account, methods=("POST",), role=STAFF),
        Page("/accounts/change", "account_change", staff.change_account, methods=("POST",), role=STAFF),
        *retrain_pages(),
    ]


def retrain_pages() -> List[Page]:
    """The staff pages of retraining (practice/console/views/retrain.py): NLU inbox, annotations, runs."""
    return [
        Page("/inbox", "inbox", retrain.inbox_page, role=STAFF, nav="NLU inbox"),
        Page("/inbox/annotate", "inbox_annotate", retrain.annotate_view, methods=("POST",), role=STAFF),
        Page("/inbox/annotated", "inbox_annotated", retrain.annotated_page, role=STAFF),
        Page("/inbox/undo", "inbox_undo", retrain.undo_view, methods=("POST",), role=STAFF),
        Page("/retrain", "retrain", retrain.runs_page, role=STAFF, nav="Retraining"),
        Page("/retrain/start", "retrain_start", retrain.start_job, methods=("POST",), role=STAFF),
        Page("/retrain/run", "retrain_run", retrain.run_page, role=STAFF),
        Page("/retrain/run/confusion.png", "retrain_png", retrain.run_image, role=STAFF),
    ]


def navigation(role: str) -> List[Page]:
    """The navigation entries this role may open."""
    return [page for page in pages() if page.nav and role_allows(role, page.role)]


def allowed(request: Request, page: Page) -> bool:
    """True when the signed-in user (if any) may open the page."""
    session = getattr(request.ctx, "session", None)
    if page.role is PUBLIC:
        return True
    return session is not None and role_allows(session.account.role, page.role)
