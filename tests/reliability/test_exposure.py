"""What the default run exposes: only the chat channels beyond loopback, no Rasa HTTP API,
the action server (and console, website) on loopback only, no CORS on the action server,
and no usage telemetry leaving the machine."""

from __future__ import annotations

import re
import socket
from pathlib import Path
from typing import Dict, Iterator, List, Set, Tuple

import pytest

from practice.launcher import Stack
from practice.settings import PROJECT_ROOT
from tests.reliability.client import get, new_sender, post

EVIL_ORIGIN = "https://evil.example"


def runnable_services() -> List[str]:
    """The services this checkout can start (the console and website may not exist yet)."""
    names = ["actions", "rasa"]
    for name in ("website", "console"):
        package = PROJECT_ROOT / "practice" / name
        module = PROJECT_ROOT / "practice" / f"{name}.py"
        if (package / "__main__.py").exists() or module.exists():
            names.append(name)
    return names


@pytest.fixture(scope="module")
def stack(start_stack) -> Iterator[Stack]:
    """Every service with its default interface: Rasa on all interfaces, the rest loopback."""
    started = start_stack(only=runnable_services(), RASA_HOST="0.0.0.0")
    yield started
    started.stop()


def ports(stack: Stack) -> Dict[str, int]:
    """Each running service's port."""
    keys = {"rasa": "RASA_PORT", "actions": "ACTION_SERVER_PORT", "website": "WEBSITE_PORT", "console": "CONSOLE_PORT"}
    return {s.name: int(stack.env[keys[s.name]]) for s in stack.services}


def _sockets(kind: str) -> List[Tuple[str, int, str, int, str, str]]:
    """(local ip, local port, remote ip, remote port, state, inode) from /proc/net/<kind>."""
    rows = []
    for line in Path(f"/proc/net/{kind}").read_text().splitlines()[1:]:
        fields = line.split()
        (local_ip, local_port), (remote_ip, remote_port) = (_address(fields[1], kind), _address(fields[2], kind))
        rows.append((local_ip, local_port, remote_ip, remote_port, fields[3], fields[9]))
    return rows


def _address(text: str, kind: str) -> Tuple[str, int]:
    hex_ip, hex_port = text.split(":")
    raw = bytes.fromhex(hex_ip)
    if kind in ("tcp", "udp"):  # IPv4 tables; tcp6 and udp6 hold IPv6
        ip = socket.inet_ntop(socket.AF_INET, raw[::-1])
    else:  # 4 little-endian 32-bit words
        words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
        ip = socket.inet_ntop(socket.AF_INET6, words)
    return ip, int(hex_port, 16)


LISTEN = "0A"


def listening_addresses(port: int) -> Set[str]:
    """Every local address something listens on at `port`."""
    return {ip for kind in ("tcp", "tcp6") for ip, p, _, _, state, _ in _sockets(kind) if p == port and state == LISTEN}


def this_machines_outside_address() -> str | None:
    """An address of this machine that is not loopback, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent for UDP connect
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_only_the_rasa_server_listens_beyond_loopback(stack: Stack) -> None:
    for name, port in ports(stack).items():
        addresses = listening_addresses(port)
        assert addresses, f"{name} listens nowhere on {port}"
        if name == "rasa":
            assert addresses & {"0.0.0.0", "::"}, addresses
        else:
            assert addresses <= {"127.0.0.1", "::1"}, f"{name} listens on {addresses}"


def test_from_outside_loopback_only_the_rasa_port_answers(stack: Stack) -> None:
    outside = this_machines_outside_address()
    if outside is None:
        pytest.skip("this machine has no address besides loopback")
    for name, port in ports(stack).items():
        with socket.socket() as sock:
            sock.settimeout(2)
            reachable = sock.connect_ex((outside, port)) == 0
        assert reachable == (name == "rasa"), f"{name} reachable={reachable} at {outside}"
    reply = post(
        f"http://{outside}:{stack.env['RASA_PORT']}/webhooks/rest/webhook", {"sender": new_sender(), "message": "hello"}
    )
    assert reply.status == 200 and reply.text


def rasa_api_routes() -> List[Tuple[str, str]]:
    """(method, path) of every route Rasa's HTTP API would add with --enable-api."""
    import rasa.server

    app = rasa.server.create_app()
    routes = []
    for route in app.router.routes:
        path = "/" + re.sub(r"<[^>]+>", new_sender(), route.path)
        for method in route.methods:
            if path != "/":  # the root says hello with or without the API
                routes.append((method, path))
    return routes


def test_rasa_http_api_is_off(stack: Stack) -> None:
    base = f"http://127.0.0.1:{stack.env['RASA_PORT']}"
    routes = rasa_api_routes()
    assert ("PUT", "/model") in routes and ("POST", "/model/parse") in routes
    assert ("GET", "/status") in routes
    for method, path in routes:
        if method in ("POST", "PUT"):
            reply = post(base + path, {"text": "hello", "model_file": "/tmp/x.tar.gz"})
            if method == "PUT":
                reply = get(base + path, method="PUT")
        else:
            reply = get(base + path, method=method)
        assert reply.status in (404, 405), (method, path, reply.status, reply.body)
    # The control: the channel the widget needs does answer on the same port.
    assert get(base + "/webhooks/rest/").status == 200


def test_the_action_server_sends_no_cors_headers(stack: Stack) -> None:
    base = f"http://127.0.0.1:{stack.env['ACTION_SERVER_PORT']}"
    preflight = get(
        base + "/webhook", method="OPTIONS", headers={"Origin": EVIL_ORIGIN, "Access-Control-Request-Method": "POST"}
    )
    health = get(base + "/health", headers={"Origin": EVIL_ORIGIN})
    assert health.status == 200
    for reply in (preflight, health):
        names = {name.lower() for name in reply.headers}
        assert not any(name.startswith("access-control-allow") for name in names), reply.headers


def test_the_chat_channels_allow_only_the_configured_origins(stack: Stack) -> None:
    url = f"http://127.0.0.1:{stack.env['RASA_PORT']}/webhooks/rest/webhook"
    body = {"sender": new_sender(), "message": "hello"}
    allowed = f"http://localhost:{stack.env['WEBSITE_PORT']}"
    good = post(url, body, headers={"Origin": allowed})
    evil = post(url, body, headers={"Origin": EVIL_ORIGIN})
    assert good.headers.get("Access-Control-Allow-Origin") == allowed
    assert evil.headers.get("Access-Control-Allow-Origin") in (None, "")


def test_usage_telemetry_is_off(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    import rasa.telemetry

    rasa_process = next(s for s in stack.services if s.name == "rasa").process
    assert rasa_process is not None
    environ = Path(f"/proc/{rasa_process.pid}/environ").read_bytes().split(b"\0")
    assert b"RASA_TELEMETRY_ENABLED=false" in environ
    # What Rasa itself concludes from that environment.
    monkeypatch.setenv("RASA_TELEMETRY_ENABLED", "false")
    assert rasa.telemetry.is_telemetry_enabled() is False


def test_no_process_talks_to_anything_beyond_loopback(stack: Stack) -> None:
    post(
        f"http://127.0.0.1:{stack.env['RASA_PORT']}/webhooks/rest/webhook",
        {"sender": new_sender(), "message": "blorp zzkq"},
    )  # runs a custom action too
    connections = {
        inode: (remote_ip, state)
        for kind in ("tcp", "tcp6", "udp", "udp6")
        for _, _, remote_ip, _, state, inode in _sockets(kind)
    }
    for service in stack.services:
        assert service.process is not None
        fd_dir = Path(f"/proc/{service.process.pid}/fd")
        for fd in fd_dir.iterdir():
            try:
                target = fd.readlink().as_posix()
            except OSError:
                continue
            match = re.fullmatch(r"socket:\[(\d+)\]", target)
            if not match or match.group(1) not in connections:
                continue
            remote_ip, _ = connections[match.group(1)]
            assert remote_ip in ("0.0.0.0", "::", "127.0.0.1", "::1", "::ffff:127.0.0.1"), (
                f"{service.name} has a socket to {remote_ip}"
            )
