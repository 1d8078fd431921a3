"""The console's Sanic app: sessions, CSRF and roles enforced around every registered page."""

from __future__ import annotations

import asyncio
import functools
from typing import Any, Optional
from urllib.parse import quote, urlsplit

from sanic import Request, Sanic
from sanic.exceptions import NotFound, SanicException
from sanic.log import logger
from sanic.response import HTTPResponse, redirect

from practice.console import auth, db
from practice.console.pages import Page, allowed, navigation, pages
from practice.console.queries import MAX_SEARCH_CHARS
from practice.console.web import (
    SESSION_COOKIE,
    STATIC_DIR,
    ConsoleContext,
    Summarizer,
    make_templates,
    render,
    run_db,
)
from practice.settings import Settings, get_settings
from practice.store.database import create_engine

# The console renders no third-party content and runs no scripts at all.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _same_origin(request: Request) -> bool:
    """A POST's Origin (when the browser sends one) must be the console itself.

    Ports do not separate sites for cookies, so SameSite alone would let the website on
    another port of the same host post here; the Origin check and the CSRF token do not.
    """
    origin = request.headers.get("origin")
    if origin is None:
        return True
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc == request.host


def _guard(page: Page) -> Any:
    """Wrap a view: sign-in, role and (for POST) CSRF checks before it runs."""

    @functools.wraps(page.handler)
    async def guarded(request: Request, **params: Any) -> HTTPResponse:
        session: Optional[auth.Session] = request.ctx.session
        if page.role is not None and session is None:
            if request.method == "GET":
                target = request.path + ("?" + request.query_string if request.query_string else "")
                return redirect("/login?next=" + quote(target, safe=""))
            return render(request, "error.html", status=401, message="Please sign in again.")
        if not allowed(request, page):
            return render(request, "error.html", status=403, message="This page is for staff accounts only.")
        if request.method == "POST":
            if not _same_origin(request):
                return render(request, "error.html", status=403, message="Forms must be sent from the console itself.")
            if session is not None and not auth.tokens_match(
                session.csrf_token, (request.form or {}).get("csrf_token")
            ):
                return render(
                    request, "error.html", status=403, message="The form expired. Go back, reload the page and retry."
                )
        return await page.handler(request, **params)

    return guarded


def create_app(settings: Optional[Settings] = None, name: str = "practice_console") -> Sanic:
    """Build the console app; the database is opened when the server starts."""
    settings = settings or get_settings()
    app = Sanic(name)
    app.config.REQUEST_MAX_SIZE = 1_000_000
    # Sanic's largest request head (8 KiB by default): a long search still reaches the list,
    # which says the search is too long, with the navigation around it.
    app.config.REQUEST_MAX_HEADER_SIZE = 16_384
    app.config.FALLBACK_ERROR_FORMAT = "html"
    app.static("/static", str(STATIC_DIR), name="static")
    for page in pages():
        app.add_route(
            _guard(page), page.path, methods=list(page.methods), name=f"{page.name}_{page.methods[0].lower()}"
        )

    @app.before_server_start
    async def open_database(app: Sanic, _loop: Any) -> None:
        engine = create_engine(settings.database_url)
        await run_db(db.ensure_schema, engine)
        app.ctx.console = ConsoleContext(
            settings, engine, make_templates(settings), Summarizer(engine), navigation=navigation
        )
        app.ctx.summary_task = asyncio.ensure_future(app.ctx.console.summarizer.run_forever())

    @app.after_server_stop
    async def close_database(app: Sanic, _loop: Any) -> None:
        app.ctx.summary_task.cancel()
        app.ctx.console.engine.dispose()

    @app.middleware("request")
    async def load_session(request: Request) -> None:
        token = request.cookies.get(SESSION_COOKIE)
        request.ctx.session = await run_db(auth.load_session, request.app.ctx.console.engine, token) if token else None

    @app.middleware("response")
    async def security_headers(request: Request, response: HTTPResponse) -> None:
        for header, value in SECURITY_HEADERS.items():
            response.headers.setdefault(header, value)

    @app.exception(NotFound)
    async def not_found(request: Request, _error: Exception) -> HTTPResponse:
        if not hasattr(request.ctx, "session"):
            request.ctx.session = None
        return render(request, "error.html", status=404, message="There is no such page.")

    @app.exception(SanicException)
    async def http_error(request: Request, error: SanicException) -> HTTPResponse:
        if not hasattr(request.ctx, "session"):
            request.ctx.session = None
        status = getattr(error, "status_code", 500) or 500
        message = "The request failed."
        if status == 413 and request.method == "NONE":
            # The request's head was over the limit, so Sanic read no path or cookie.
            message = (
                "That address is too long for the console (over 16 KB). A search in the "
                f"conversation list may have at most {MAX_SEARCH_CHARS} characters: go back "
                "and shorten it."
            )
        return render(request, "error.html", status=status, message=message)

    return app


def serve(settings: Optional[Settings] = None) -> None:
    """Run the console on the configured host and port until stopped."""
    settings = settings or get_settings()
    app = create_app(settings)
    logger.info("Console on http://%s:%s/", settings.console_host, settings.console_port)
    app.run(host=settings.console_host, port=settings.console_port, workers=1, access_log=False, motd=False)
