"""The one module that reads the environment: every setting, its default and its variable.

Defaults come from `practice.yml` at the project root; an environment variable of the
same meaning overrides each. Everything else receives a `Settings` value.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Tuple

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULTS_FILE = PROJECT_ROOT / "practice.yml"
# The practice's article, a file of the repository (the only source of health facts).
DEFAULT_ARTICLE = PROJECT_ROOT / "content" / "leaky-gut.md"


@dataclass(frozen=True)
class Settings:
    """All of the practice's settings, resolved once."""

    coaching_application_url: str
    database_url: str
    lock_store_url: Optional[str]
    rasa_host: str
    rasa_port: int
    action_server_host: str
    action_server_port: int
    website_host: str
    website_port: int
    console_host: str
    console_port: int
    allowed_origins: Tuple[str, ...]
    model_dir: Path
    # Rasa server processes on RASA_PORT (forked after the model loads, so they share it).
    # Above one, conversation locks go to a SQLite file beside the conversations unless
    # LOCK_STORE_URL names Redis (docs/BENCHMARKS.md, "Settings make run uses").
    rasa_workers: int = 1
    # Where `make run` records each process's state and restarts (`make status` reads it).
    status_file: Path = PROJECT_ROOT / "var" / "run-status.json"
    # The coaches' console (practice/console): sessions, lockout, what counts as low confidence.
    console_session_hours: float = 12.0
    console_lockout_attempts: int = 5
    console_lockout_minutes: float = 15.0
    console_low_confidence: float = 0.5
    console_timezone: str = "UTC"
    console_secure_cookies: bool = False
    console_password: Optional[str] = field(default=None, repr=False)
    # Reliability (docs/RELIABILITY.md): how long a custom action may take before the
    # visitor gets the fallback offer instead, and the channels' rate limits.
    action_timeout_seconds: float = 3.0
    rate_limit_per_sender: str = "20/30"
    rate_limit_per_client: str = "120/60"
    retention_days: int = 90
    # Peers whose X-Real-IP / X-Forwarded-For name the client (the reverse proxy).
    trusted_proxies: Tuple[str, ...] = ("127.0.0.1/32", "::1/128")
    # Retraining (practice/retrain, docs/RETRAINING.md): how often the running Rasa server
    # checks models/current.tar.gz for a promoted model, whose data the inbox and retrain
    # work on (the repository; tests point it at a copy), where runs and their reports go,
    # and which share of approved examples is held out for the gate.
    model_reload_seconds: float = 5.0
    retrain_project_dir: Path = PROJECT_ROOT
    retrain_dir: Path = PROJECT_ROOT / "var" / "retrain"
    retrain_holdout_every: int = 4
    # The demo website (practice/website): the article it shows, and the chat server URL
    # the widget talks to (unset: the page's own host name on RASA_PORT).
    article_path: Path = DEFAULT_ARTICLE
    chat_server_url: Optional[str] = None
    # Where safety replies send people (docs/SAFETY.md says where each US default comes from).
    crisis_line: str = "988 (the 988 Suicide & Crisis Lifeline)"
    emergency_number: str = "911"
    eating_disorder_line: str = "the ANAD Eating Disorders Helpline at 1-888-375-7767"
    # Where visitors read the article: the "From the article" links of answers point to
    # its section anchors (practice/answers.py). Default: the demo site's article page.
    article_url: str = "http://127.0.0.1:8000/"

    @property
    def action_server_url(self) -> str:
        """The webhook URL Rasa calls for custom actions."""
        return f"http://{self.action_server_host}:{self.action_server_port}/webhook"


def _defaults_from_file(path: Path) -> Dict[str, Any]:
    if not path.exists():
        return {}
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def _flag(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


def _csv(value: str) -> Tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _default_lock_store(rasa_workers: int, var_dir: Path) -> Optional[str]:
    """Several Rasa processes share their conversation locks in a file; one keeps them in memory."""
    return f"sqlite:///{var_dir / 'locks.db'}" if rasa_workers > 1 else None


def load_settings(environ: Optional[Mapping[str, str]] = None, defaults_file: Path = DEFAULTS_FILE) -> Settings:
    """Resolve every setting from the environment, falling back to `practice.yml`."""
    env = os.environ if environ is None else environ
    defaults = _defaults_from_file(defaults_file)
    var_dir = PROJECT_ROOT / "var"
    website_port = int(env.get("WEBSITE_PORT", "8000"))
    rasa_workers = max(1, int(env.get("RASA_WORKERS", "2")))
    return Settings(
        coaching_application_url=env.get("COACHING_APPLICATION_URL", defaults.get("coaching_application_url", "")),
        database_url=env.get("DATABASE_URL", f"sqlite:///{var_dir / 'conversations.db'}"),
        lock_store_url=env.get("LOCK_STORE_URL") or _default_lock_store(rasa_workers, var_dir),
        rasa_host=env.get("RASA_HOST", "0.0.0.0"),
        rasa_port=int(env.get("RASA_PORT", "5005")),
        action_server_host=env.get("ACTION_SERVER_HOST", "127.0.0.1"),
        action_server_port=int(env.get("ACTION_SERVER_PORT", "5055")),
        website_host=env.get("WEBSITE_HOST", "127.0.0.1"),
        website_port=website_port,
        console_host=env.get("CONSOLE_HOST", "127.0.0.1"),
        console_port=int(env.get("CONSOLE_PORT", "8001")),
        allowed_origins=_csv(
            env.get(
                "ALLOWED_ORIGINS",
                f"http://localhost:{website_port},http://127.0.0.1:{website_port}",
            )
        ),
        model_dir=Path(env.get("MODEL_DIR", str(PROJECT_ROOT / "models"))),
        rasa_workers=rasa_workers,
        status_file=Path(env.get("RUN_STATUS_FILE", str(var_dir / "run-status.json"))),
        console_session_hours=float(env.get("CONSOLE_SESSION_HOURS", "12")),
        console_lockout_attempts=int(env.get("CONSOLE_LOCKOUT_ATTEMPTS", "5")),
        console_lockout_minutes=float(env.get("CONSOLE_LOCKOUT_MINUTES", "15")),
        console_low_confidence=float(env.get("CONSOLE_LOW_CONFIDENCE", "0.5")),
        console_timezone=env.get("CONSOLE_TIMEZONE", "UTC"),
        console_secure_cookies=_flag(env.get("CONSOLE_SECURE_COOKIES", "false")),
        console_password=env.get("CONSOLE_PASSWORD") or None,
        action_timeout_seconds=float(env.get("ACTION_TIMEOUT_SECONDS", "3")),
        rate_limit_per_sender=env.get("RATE_LIMIT_PER_SENDER", "20/30"),
        rate_limit_per_client=env.get("RATE_LIMIT_PER_CLIENT", "120/60"),
        retention_days=int(env.get("RETENTION_DAYS", "90")),
        trusted_proxies=_csv(env.get("TRUSTED_PROXIES", "127.0.0.1/32,::1/128")),
        model_reload_seconds=max(1.0, float(env.get("MODEL_RELOAD_SECONDS", "5"))),
        retrain_project_dir=Path(env.get("RETRAIN_PROJECT_DIR", str(PROJECT_ROOT))),
        retrain_dir=Path(env.get("RETRAIN_DIR", str(var_dir / "retrain"))),
        retrain_holdout_every=max(2, int(env.get("RETRAIN_HOLDOUT_EVERY", "4"))),
        article_path=Path(env.get("ARTICLE_PATH", str(DEFAULT_ARTICLE))),
        chat_server_url=(env.get("CHAT_SERVER_URL") or "").rstrip("/") or None,
        crisis_line=env.get("CRISIS_LINE") or Settings.crisis_line,
        emergency_number=env.get("EMERGENCY_NUMBER") or Settings.emergency_number,
        eating_disorder_line=env.get("EATING_DISORDER_LINE") or Settings.eating_disorder_line,
        article_url=(env.get("ARTICLE_URL") or f"http://127.0.0.1:{website_port}/").split("#", 1)[0],
    )


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return load_settings()
