"""One running stack and one headless Chromium for every browser test of the widget."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Iterator, List
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.conftest import debian_chromium, free_port

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
LAUNCHER = "Questions about leaky gut?"

expect.set_options(timeout=15_000)


@dataclass
class Site:
    """The running demo site and assistant, and where their conversations are stored."""

    url: str
    chat_url: str
    database: Path
    application_url: str
    # Another site of the practice's, on the assistant's CORS allow-list, and one that is not.
    allowed_port: int
    foreign_port: int

    def stored_events(self, sender: str, type_name: str) -> List[Dict[str, Any]]:
        """The stored events of one type for one conversation, oldest first."""
        with sqlite3.connect(self.database) as db:
            rows = db.execute(
                "SELECT data FROM events WHERE sender_id = ? AND type_name = ? ORDER BY id",
                (sender, type_name),
            ).fetchall()
        return [json.loads(row[0]) for row in rows]


@pytest.fixture(scope="session")
def site(start_stack: Any) -> Site:
    """The assistant, its action server and the demo website, started once for the session."""
    website_port, allowed_port, foreign_port = free_port(), free_port(), free_port()
    origins = [
        f"http://127.0.0.1:{website_port}",
        f"http://localhost:{website_port}",
        f"http://127.0.0.1:{allowed_port}",
    ]
    stack = start_stack(
        only=["actions", "rasa", "website"],
        WEBSITE_PORT=str(website_port),
        ALLOWED_ORIGINS=",".join(origins),
    )
    settings = stack.settings
    return Site(
        url=f"http://127.0.0.1:{settings.website_port}",
        chat_url=f"http://127.0.0.1:{settings.rasa_port}",
        database=Path(settings.database_url.removeprefix("sqlite:///")),
        application_url=settings.coaching_application_url,
        allowed_port=allowed_port,
        foreign_port=foreign_port,
    )


class PageServer:
    """A tiny web server on loopback standing in for a practice's own site."""

    def __init__(self, port: int) -> None:
        """Serve on `port`; pages are added with `page(path, html, headers)`."""
        pages: Dict[str, Any] = {}
        self.pages = pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the standard library's name
                body, headers = pages.get(self.path, (b"Not found", {}))
                self.send_response(200 if self.path in pages else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def page(self, path: str, html: str, headers: Dict[str, str]) -> str:
        """Serve `html` at `path` with `headers`; returns its URL."""
        self.pages[path] = (html.encode("utf-8"), headers)
        return self.url + path

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def practice_sites(site: Site) -> Iterator[Dict[str, PageServer]]:
    """Two other sites: one on the CORS allow-list ("allowed"), one not ("foreign")."""
    servers = {"allowed": PageServer(site.allowed_port), "foreign": PageServer(site.foreign_port)}
    yield servers
    for server in servers.values():
        server.close()


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless; Playwright never downloads a browser.

    Package scope: Playwright's sync API holds an event loop while it runs, which must be
    gone before async tests elsewhere in the same pytest run start theirs.
    """
    with debian_chromium() as chromium:
        yield chromium


@dataclass
class Watched:
    """A page with what it printed and requested recorded, for assertions afterwards."""

    page: Page
    context: BrowserContext
    console_errors: List[str] = field(default_factory=list)
    page_errors: List[str] = field(default_factory=list)
    dialogs: List[str] = field(default_factory=list)
    requests: List[str] = field(default_factory=list)


def watch(context: BrowserContext, page: Page) -> Watched:
    """Record console errors, script errors, dialogs and requests of `page`."""
    watched = Watched(page=page, context=context)
    page.on("console", lambda m: m.type == "error" and watched.console_errors.append(m.text))
    page.on("pageerror", lambda e: watched.page_errors.append(str(e)))
    page.on("dialog", lambda d: (watched.dialogs.append(d.message), d.dismiss()))
    context.on("request", lambda r: watched.requests.append(r.url))
    return watched


@pytest.fixture
def context(browser: Browser, site: Site) -> Iterator[BrowserContext]:
    """A fresh browser profile (own localStorage) at desktop size."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    # The application form is on another site: answer its URL locally, never over the network.
    app = urlsplit(site.application_url)
    ctx.route(
        f"{app.scheme}://{app.netloc}/**",
        lambda route: route.fulfill(status=200, content_type="text/html", body="<p>form</p>"),
    )
    yield ctx
    ctx.close()


@pytest.fixture
def watched(context: BrowserContext) -> Watched:
    """A page in the fresh profile, watched."""
    page = context.new_page()
    return watch(context, page)


@pytest.fixture
def page(watched: Watched) -> Page:
    """The watched page itself."""
    return watched.page


# ---- helpers the tests share -----------------------------------------------------------


def open_widget(page: Page, site: Site, path: str = "/") -> None:
    """Load a demo page, open the widget and wait for the greeting."""
    page.goto(site.url + path)
    page.get_by_role("button", name=LAUNCHER).click()
    expect(bot_messages(page).first).to_contain_text("not medical advice")


def bot_messages(page: Page) -> Any:
    """Every bot message in the widget."""
    return page.locator(".lgw-msg--bot")


def visitor_messages(page: Page) -> Any:
    """Every visitor message in the widget."""
    return page.locator(".lgw-msg--visitor")


def ask(page: Page, text: str) -> None:
    """Type `text`, press Enter and wait for the answer to arrive."""
    before = bot_messages(page).count()
    page.get_by_label("Your message").fill(text)
    page.get_by_label("Your message").press("Enter")
    expect(bot_messages(page)).not_to_have_count(before)
    expect(page.locator(".lgw-typing")).to_be_hidden()


def sender_id(page: Page) -> str:
    """The conversation id the widget keeps in localStorage."""
    return page.evaluate("localStorage.getItem('practice-chat:sender')")


def wait_for(predicate: Any, timeout: float = 5.0) -> Any:
    """Poll `predicate` until it returns something truthy or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


def run_axe(page: Page) -> List[Dict[str, Any]]:
    """axe-core's serious and critical violations on the page (shadow DOM included)."""
    if not AXE.exists():
        pytest.fail("axe-core is not installed: run `make browser-deps` (npm ci in tests/browser)")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in result
        if v["impact"] in ("serious", "critical")
    ]
