"""The demo website's HTTP server: two pages, the widget's files, strict security headers.

Standard library only: it serves a few small files to one visitor at a time on loopback,
which needs no framework.
"""

from __future__ import annotations

import html
import logging
import mimetypes
import re
import signal
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from string import Template
from typing import Dict, Tuple
from urllib.parse import urlsplit

from practice.settings import PROJECT_ROOT, Settings, get_settings
from practice.website.markdown import render_markdown

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
# Only these directories are served, and only plain file names with these endings.
STATIC_DIRS = {"/widget/": PROJECT_ROOT / "widget", "/static/": HERE / "static"}
STATIC_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*\.(js|css)")
_HOST_NAME = re.compile(r"[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\]")


def chat_server_url(settings: Settings, host_header: str | None) -> str:
    """Where the widget reaches the assistant: the setting, else this host on RASA_PORT."""
    if settings.chat_server_url:
        return settings.chat_server_url
    try:
        name = urlsplit("//" + (host_header or "")).hostname or ""
    except ValueError:
        name = ""
    if ":" in name:
        name = f"[{name}]"
    if not _HOST_NAME.fullmatch(name):
        name = "localhost"
    return f"http://{name}:{settings.rasa_port}"


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL, for the Content-Security-Policy."""
    match = re.match(r"^(https?://[^/?#]+)", url)
    return match.group(1) if match else ""


def security_headers(chat_server: str) -> Dict[str, str]:
    """Headers every page gets: CSP without inline code, no sniffing, no referrer."""
    return {
        "Content-Security-Policy": (
            f"default-src 'self'; connect-src 'self' {origin_of(chat_server)}; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


def render_page(settings: Settings, path: str, chat_server: str) -> Tuple[str, str] | None:
    """The (title, HTML) of a page, or None when there is no such page."""
    if path == "/":
        title = "What the heck is leaky gut?"
        body = render_markdown(settings.article_path.read_text(encoding="utf-8"))
    elif path == "/coaching":
        title = "1:1 Dietitian Nutrition Coaching"
        body = Template((TEMPLATES / "coaching.html").read_text(encoding="utf-8")).substitute(
            application_url=html.escape(settings.coaching_application_url, quote=True)
        )
    else:
        return None
    current = ' aria-current="page"'
    page = Template((TEMPLATES / "page.html").read_text(encoding="utf-8")).substitute(
        title=html.escape(title),
        body=body,
        chat_server=html.escape(chat_server, quote=True),
        application_url=html.escape(settings.coaching_application_url, quote=True),
        article_current=current if path == "/" else "",
        coaching_current=current if path == "/coaching" else "",
    )
    return title, page


def static_file(path: str) -> Path | None:
    """The file a /widget/ or /static/ path names, or None (no traversal, no other types)."""
    for prefix, directory in STATIC_DIRS.items():
        if path.startswith(prefix):
            name = path[len(prefix) :]
            if STATIC_NAME.fullmatch(name) and (directory / name).is_file():
                return directory / name
    return None


class SiteHandler(BaseHTTPRequestHandler):
    """GET and HEAD for the demo site's pages and files."""

    protocol_version = "HTTP/1.1"
    server_version = "PracticeDemoSite"
    sys_version = ""
    settings: Settings

    def do_GET(self) -> None:  # noqa: N802 - the standard library's name
        """Serve a page, a widget or site file, or 404."""
        self._serve(send_body=True)

    def do_HEAD(self) -> None:  # noqa: N802 - the standard library's name
        """As GET, without the body."""
        self._serve(send_body=False)

    def _serve(self, send_body: bool) -> None:
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        chat_server = chat_server_url(self.settings, self.headers.get("Host"))
        headers = security_headers(chat_server)
        if path == "/favicon.ico":
            self._send(HTTPStatus.NO_CONTENT, b"", "text/plain", headers, send_body)
            return
        file = static_file(path)
        if file is not None:
            content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            headers["Cache-Control"] = "no-cache"
            self._send(HTTPStatus.OK, file.read_bytes(), content_type, headers, send_body)
            return
        try:
            page = render_page(self.settings, path, chat_server)
        except OSError:
            logger.error("The article cannot be read: %s", self.settings.article_path)
            self._send(
                HTTPStatus.SERVICE_UNAVAILABLE,
                b"The article is unavailable.",
                "text/plain",
                headers,
                send_body,
            )
            return
        if page is None:
            self._send(HTTPStatus.NOT_FOUND, b"Not found.", "text/plain", headers, send_body)
            return
        headers["Cache-Control"] = "no-cache"
        self._send(HTTPStatus.OK, page[1].encode("utf-8"), "text/html", headers, send_body)

    def _send(
        self,
        status: HTTPStatus,
        body: bytes,
        content_type: str,
        headers: Dict[str, str],
        send_body: bool,
    ) -> None:
        self.send_response(status)
        charset = "; charset=utf-8" if content_type.startswith("text/") or "javascript" in content_type else ""
        self.send_header("Content-Type", content_type + charset)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        """Access lines at debug level only."""
        logger.debug("%s " + format, self.address_string(), *args)


def make_server(settings: Settings) -> ThreadingHTTPServer:
    """A server bound to WEBSITE_HOST:WEBSITE_PORT (loopback by default), not yet serving."""
    handler = type("ConfiguredSiteHandler", (SiteHandler,), {"settings": settings})
    server = ThreadingHTTPServer((settings.website_host, settings.website_port), handler)
    server.daemon_threads = True
    return server


def main() -> int:
    """Serve the demo site until SIGINT or SIGTERM."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = get_settings()
    server = make_server(settings)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    logger.info("Demo website on http://%s:%s/", settings.website_host, settings.website_port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
