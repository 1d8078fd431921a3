"""deploy/ parses and matches what the scale-out tests run: the nginx configuration comes
from the one template, and docker-compose.yml starts the same services the same way."""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml

from practice.settings import PROJECT_ROOT
from practice.topology import DEPLOY_NGINX, TEMPLATE, Edge, Ports, Topology, render_nginx

DEPLOY = PROJECT_ROOT / "deploy"


@pytest.fixture(scope="module")
def compose() -> Dict[str, Any]:
    """deploy/docker-compose.yml, YAML anchors and merges resolved."""
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def production() -> Edge:
    """The production edge of deploy/edge.yml."""
    return Edge.from_file()


@pytest.fixture(scope="module")
def loopback(tmp_path_factory: pytest.TempPathFactory) -> Topology:
    """The loopback topology's description (nothing started)."""
    return Topology(tmp_path_factory.mktemp("topology"), Ports.free())


# The only directives whose values may differ between production and the loopback test.
ADDRESS_DIRECTIVES = (
    "worker_processes",
    "pid",
    "error_log",
    "access_log",
    "client_body_temp_path",
    "proxy_temp_path",
    "fastcgi_temp_path",
    "uwsgi_temp_path",
    "scgi_temp_path",
    "server",
    "listen",
    "server_name",
    "return 301",
    "ssl_certificate",
    "ssl_certificate_key",
    "${allowed_origins}",
    "${rasa_servers}",
)


def contains_in_order(text: str, lines: List[str]) -> bool:
    """True when every line of `lines` occurs in `text`, in this order."""
    remaining = iter(line.strip() for line in text.splitlines())
    return all(any(candidate == line.strip() for candidate in remaining) for line in lines)


def test_deploy_nginx_conf_is_the_rendered_template(production: Edge) -> None:
    assert DEPLOY_NGINX.read_text(encoding="utf-8") == render_nginx(production), (
        "deploy/nginx.conf is stale or edited by hand: run `make deploy-config`"
    )


def test_production_and_loopback_edges_share_every_limit(production: Edge, loopback: Topology) -> None:
    template = TEMPLATE.read_text(encoding="utf-8")
    # Only addresses, names and paths are parameters, never a limit...
    assert set(re.findall(r"\$\{([a-z_]+)\}", template)) == {f.name for f in dataclasses.fields(Edge)}
    for line in template.splitlines():
        if "${" in line and not line.lstrip().startswith("#"):
            assert line.strip().startswith(ADDRESS_DIRECTIVES), line
    # ...and both configurations carry every other line of the template, in order.
    fixed = [line for line in template.splitlines() if line.strip() and "${" not in line]
    deployed, tested = render_nginx(production), render_nginx(loopback.edge())
    assert contains_in_order(deployed, fixed) and contains_in_order(tested, fixed)
    for directive in (
        "client_max_body_size 16k;",
        "limit_req_zone",
        "limit_req zone=chat",
        "ssl_protocols TLSv1.2 TLSv1.3;",
        "hash $chat_sender consistent;",
        "proxy_next_upstream error timeout;",
        "map $http_origin",
    ):
        assert directive in deployed and directive in tested


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")
def test_both_configurations_pass_nginx_t(production: Edge, loopback: Topology, tmp_path: Path) -> None:
    tested = loopback.nginx_config()  # also makes the self-signed certificate
    # Production, with the container-only names made resolvable here and files local.
    local = dataclasses.replace(
        production,
        rasa_servers=tuple(f"127.0.0.1:{5005 + i}" for i in range(len(production.rasa_servers))),
        website_server="127.0.0.1:8000",
        tls_certificate=str(loopback.certificate),
        tls_certificate_key=str(loopback.certificate.parent / "key.pem"),
        pid_file=str(tmp_path / "nginx.pid"),
        error_log=str(tmp_path / "error.log"),
        access_log=str(tmp_path / "access.log"),
        temp_dir=str(tmp_path),
    )
    deployed = tmp_path / "nginx.conf"
    deployed.write_text(render_nginx(local), encoding="utf-8")
    for config in (tested, deployed):
        done = subprocess.run(["nginx", "-t", "-c", str(config)], capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr


def service_env(service: Dict[str, Any]) -> Dict[str, str]:
    """A compose service's environment as strings."""
    return {k: str(v) for k, v in (service.get("environment") or {}).items()}


def test_compose_runs_the_tested_topology(compose: Dict[str, Any], production: Edge) -> None:
    services = compose["services"]
    rasa = [name for name in services if name.startswith("rasa-")]
    assert len(rasa) >= 2
    # nginx's upstreams are exactly the Rasa server containers, on their RASA_PORT.
    assert sorted(production.rasa_servers) == sorted(
        f"{name}:{service_env(services[name])['RASA_PORT']}" for name in rasa
    )
    host, port = production.website_server.split(":")
    assert host in services and service_env(services[host])["WEBSITE_PORT"] == port
    for name in rasa:
        assert services[name]["command"] == ["python", "-m", "practice.launcher", "serve", "rasa"]
    for name in ("actions", "website", "console"):
        assert services[name]["command"][-2:] == ["serve", name]


def test_every_service_restarts_and_has_a_health_check(compose: Dict[str, Any]) -> None:
    # Production parity with `make run`'s supervision (docs/RELIABILITY.md, "Supervision").
    for name, service in compose["services"].items():
        assert service.get("restart") in ("unless-stopped", "always"), name
        test = (service.get("healthcheck") or {}).get("test")
        assert test and test[0] in ("CMD", "CMD-SHELL"), f"{name} has no health check"
        if service.get("command", [])[:3] == ["python", "-m", "practice.launcher"]:
            # The app's own check, for the very service the container serves.
            assert test[1:] == ["python", "-m", "practice.launcher", "health", service["command"][-1]], name


def test_compose_settings_match_the_edge_and_keep_things_private(compose: Dict[str, Any], production: Edge) -> None:
    services = compose["services"]
    subnet = ipaddress.ip_network(compose["networks"]["backend"]["ipam"]["config"][0]["subnet"])
    for name in [n for n in services if n.startswith("rasa-")] + ["actions", "website", "console"]:
        env = service_env(services[name])
        assert env["DATABASE_URL"].startswith("postgresql://")
        assert "@postgres:5432/" in env["DATABASE_URL"]
        assert env["LOCK_STORE_URL"].startswith("redis://redis:")
        assert env["RASA_TELEMETRY_ENABLED"] == "false"
        assert env["ALLOWED_ORIGINS"].split(",") == list(production.allowed_origins)
        trusted = [ipaddress.ip_network(c) for c in env["TRUSTED_PROXIES"].split(",")]
        assert any(subnet.subnet_of(net) for net in trusted), "nginx's network is not trusted"
        assert "--enable-api" not in " ".join(services[name]["command"])
    # Published: nginx on 80/443; the console on the host's loopback; nothing else.
    published = {name: s.get("ports", []) for name, s in services.items() if s.get("ports")}
    assert published == {"nginx": ["80:80", "443:443"], "console": ["127.0.0.1:8001:8001"]}
    mounts = " ".join(services["nginx"]["volumes"])
    assert "./nginx.conf:/etc/nginx/nginx.conf" in mounts
    assert "./tls:/etc/nginx/tls" in mounts
    assert production.tls_certificate.startswith("/etc/nginx/tls/")


def test_no_secret_is_committed() -> None:
    example = (DEPLOY / ".env.example").read_text(encoding="utf-8")
    assert "POSTGRES_PASSWORD=" in example
    assert (
        not (DEPLOY / ".env").exists()
        or "deploy/.env"
        in subprocess.run(
            ["git", "check-ignore", "deploy/.env"], cwd=PROJECT_ROOT, capture_output=True, text=True
        ).stdout
    )
    assert (
        not list((DEPLOY / "tls").glob("*.pem"))
        or subprocess.run(["git", "check-ignore", "-q", "deploy/tls/privkey.pem"], cwd=PROJECT_ROOT).returncode == 0
    )


def test_serve_runs_exactly_the_command_run_would(tmp_path: Path) -> None:
    # The containers start each service with `launcher serve`: it must become the very
    # process `make run` and the loopback topology start (same PID, same command line).
    import os
    import signal
    import time
    import urllib.request

    from practice.launcher import process_environment, services
    from practice.settings import load_settings
    from tests.reliability.services import free_port

    env = {**os.environ, "ACTION_SERVER_PORT": str(free_port()), "ACTION_SERVER_HOST": "127.0.0.1"}
    expected = services(load_settings(env), process_environment(load_settings(env)), only=["actions"])[0]
    process = subprocess.Popen(
        [sys.executable, "-m", "practice.launcher", "serve", "actions"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(expected.ready_url, timeout=2):
                    break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.5)
        cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes().decode().split("\0")[:-1]
        assert cmdline == list(expected.argv)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
