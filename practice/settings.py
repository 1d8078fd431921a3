"""The one module that reads the environment: every setting, its default and its variable.

`VARIABLES` is the one table of settings: each variable's name, how its text is read, its
default and what uses it, written once. `load_settings` resolves it (a blank value means
the default; a bad value is refused with the variable's name), and the README's settings
table and `.env.example` are generated from it (`python -m practice.settings --readme` /
`--env-example`; a unit test checks both are current). The application URL's default
comes from `practice.yml` at the project root.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Tuple, Union

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULTS_FILE = PROJECT_ROOT / "practice.yml"
# The practice's article, a file of the repository (the only source of health facts).
DEFAULT_ARTICLE = PROJECT_ROOT / "content" / "leaky-gut.md"


@dataclass(frozen=True)
class Settings:
    """All of the practice's settings, resolved once (what each is: `VARIABLES` below)."""

    coaching_application_url: str
    database_url: str
    rasa_workers: int
    lock_store_url: Optional[str]
    rasa_host: str
    rasa_port: int
    action_server_host: str
    action_server_port: int
    action_timeout_seconds: float
    website_host: str
    website_port: int
    allowed_origins: Tuple[str, ...]
    chat_server_url: Optional[str]
    article_path: Path
    article_url: str
    crisis_line: str
    emergency_number: str
    eating_disorder_line: str
    console_host: str
    console_port: int
    console_password: Optional[str] = field(repr=False)
    console_session_hours: float
    console_lockout_attempts: int
    console_lockout_minutes: float
    console_low_confidence: float
    console_timezone: str
    console_secure_cookies: bool
    rate_limit_per_sender: str
    rate_limit_per_client: str
    trusted_proxies: Tuple[str, ...]
    retention_days: int
    status_file: Path
    model_dir: Path
    model_reload_seconds: float
    retrain_dir: Path
    retrain_project_dir: Path
    retrain_holdout_every: int

    @property
    def action_server_url(self) -> str:
        """The webhook URL Rasa calls for custom actions."""
        return f"http://{self.action_server_host}:{self.action_server_port}/webhook"


class SettingsError(ValueError):
    """A variable's value cannot be read; the message names the variable."""


@dataclass(frozen=True)
class Reader:
    """Turns a variable's text into its value; `kind` says what it expects."""

    kind: str
    read: Callable[[str], Any]


def _number(kind: Callable[[Any], Any], least: Optional[float] = None) -> Reader:
    name = "an integer" if kind is int else "a number"
    if least is not None:
        name += f" (at least {least:g}; below is raised to it)"
    return Reader(name, lambda text: kind(text) if least is None else max(kind(least), kind(text)))


def _flag(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(text)


def _csv(text: str) -> Tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


TEXT = Reader("text", str)
OPTIONAL_TEXT = Reader("text", lambda text: text or None)
URL_WITHOUT_SLASH = Reader("a URL", lambda text: text.rstrip("/") or None)
URL_WITHOUT_FRAGMENT = Reader("a URL", lambda text: text.split("#", 1)[0])
INT = _number(int)
FLOAT = _number(float)
FLAG = Reader("true or false", _flag)
LIST = Reader("a comma-separated list", _csv)
PATH = Reader("a path", Path)

# A default is text, or a function of the values resolved before it (the table's order) and
# of practice.yml's values.
Default = Union[str, Callable[[Dict[str, Any], Dict[str, Any]], str]]
VAR = PROJECT_ROOT / "var"


@dataclass(frozen=True)
class Variable:
    """One setting: its variable, its `Settings` field, how it is read, its default, its use."""

    name: str
    field: str
    reader: Reader
    default: Default
    shown_default: str
    used_by: str
    example: Optional[str] = None  # what .env.example writes; None: the shown default
    commented: bool = False  # .env.example lists it commented out (a path to leave alone)


VARIABLES: Tuple[Variable, ...] = (
    Variable(
        "COACHING_APPLICATION_URL",
        "coaching_application_url",
        TEXT,
        lambda _r, file: str(file.get("coaching_application_url", "")),
        "`coaching_application_url` in `practice.yml`",
        "`practice/nlg.py`: every `{application_url}` in `domain.yml`; the widget channel's click "
        "event and `start`/`history` replies; the demo site's `data-application-url`",
        example="https://example.com/coaching-application",
    ),
    Variable(
        "DATABASE_URL",
        "database_url",
        TEXT,
        f"sqlite:///{VAR / 'conversations.db'}",
        "`sqlite:///var/conversations.db`",
        "tracker store, console, retraining, retention; `postgresql://user:pass@host:5432/db` switches to PostgreSQL",
        example="sqlite:///var/conversations.db",
    ),
    Variable(
        "RASA_WORKERS",
        "rasa_workers",
        _number(int, 1),
        "2",
        "`2`",
        "`practice/rasa_runtime/workers.py`: Rasa server processes on `RASA_PORT`, forked after the model "
        "loads (they share it); one per core is the point",
    ),
    Variable(
        "LOCK_STORE_URL",
        "lock_store_url",
        OPTIONAL_TEXT,
        lambda r, _file: f"sqlite:///{VAR / 'locks.db'}" if r["rasa_workers"] > 1 else "",
        "`sqlite:///var/locks.db` with more than one worker, else empty (in memory)",
        "`practice/store/lock_store.py`: conversation locks (and, in a SQLite file, the rate "
        "limits) shared by the workers; `redis://host:6379/0` for several hosts or containers",
        example="",
    ),
    Variable("RASA_HOST", "rasa_host", TEXT, "0.0.0.0", "`0.0.0.0`", "the launcher: where the public channels listen"),
    Variable("RASA_PORT", "rasa_port", INT, "5005", "`5005`", "the launcher: the public channels' port"),
    Variable(
        "ACTION_SERVER_HOST",
        "action_server_host",
        TEXT,
        "127.0.0.1",
        "`127.0.0.1`",
        "the launcher and `endpoints.yml` (loopback only)",
    ),
    Variable("ACTION_SERVER_PORT", "action_server_port", INT, "5055", "`5055`", "the launcher and `endpoints.yml`"),
    Variable(
        "ACTION_TIMEOUT_SECONDS",
        "action_timeout_seconds",
        FLOAT,
        "3",
        "`3`",
        "`practice/rasa_runtime/__init__.py`: a hung action server cannot hold a reply",
    ),
    Variable("WEBSITE_HOST", "website_host", TEXT, "127.0.0.1", "`127.0.0.1`", "the demo site"),
    Variable("WEBSITE_PORT", "website_port", INT, "8000", "`8000`", "the demo site"),
    Variable(
        "ALLOWED_ORIGINS",
        "allowed_origins",
        LIST,
        lambda r, _file: f"http://localhost:{r['website_port']},http://127.0.0.1:{r['website_port']}",
        "`http://localhost:<WEBSITE_PORT>,http://127.0.0.1:<WEBSITE_PORT>`",
        "the Rasa server's CORS allow-list (the sites that embed the widget)",
        example="http://localhost:8000,http://127.0.0.1:8000",
    ),
    Variable(
        "CHAT_SERVER_URL",
        "chat_server_url",
        URL_WITHOUT_SLASH,
        "",
        "the Rasa server on `RASA_PORT` of the page's host",
        "the demo site: where its widget sends messages",
        example="",
    ),
    Variable(
        "ARTICLE_PATH",
        "article_path",
        PATH,
        str(DEFAULT_ARTICLE),
        "`content/leaky-gut.md`",
        "the demo site",
        example="content/leaky-gut.md",
        commented=True,
    ),
    Variable(
        "ARTICLE_URL",
        "article_url",
        URL_WITHOUT_FRAGMENT,
        lambda r, _file: f"http://127.0.0.1:{r['website_port']}/",
        "`http://127.0.0.1:<WEBSITE_PORT>/` (the demo site's article page)",
        '`practice/answers.py`: answers\' "From the article" links go to this URL + `#<section anchor>`',
        example="http://127.0.0.1:8000/",
        commented=True,
    ),
    Variable(
        "CRISIS_LINE",
        "crisis_line",
        TEXT,
        "988 (the 988 Suicide & Crisis Lifeline)",
        "`988 (the 988 Suicide & Crisis Lifeline)`",
        "`practice/nlg.py`: the safety replies (where each default comes from: `docs/SAFETY.md`)",
    ),
    Variable("EMERGENCY_NUMBER", "emergency_number", TEXT, "911", "`911`", "`practice/nlg.py`: the safety replies"),
    Variable(
        "EATING_DISORDER_LINE",
        "eating_disorder_line",
        TEXT,
        "the ANAD Eating Disorders Helpline at 1-888-375-7767",
        "`the ANAD Eating Disorders Helpline at 1-888-375-7767`",
        "`practice/nlg.py`: the safety replies",
    ),
    Variable("CONSOLE_HOST", "console_host", TEXT, "127.0.0.1", "`127.0.0.1`", "the console"),
    Variable("CONSOLE_PORT", "console_port", INT, "8001", "`8001`", "the console"),
    Variable(
        "CONSOLE_PASSWORD",
        "console_password",
        OPTIONAL_TEXT,
        "",
        "empty",
        "the first account's and `accounts create`'s password (for automation)",
        example="",
    ),
    Variable("CONSOLE_SESSION_HOURS", "console_session_hours", FLOAT, "12", "`12`", "console sign-in"),
    Variable("CONSOLE_LOCKOUT_ATTEMPTS", "console_lockout_attempts", INT, "5", "`5`", "console sign-in"),
    Variable("CONSOLE_LOCKOUT_MINUTES", "console_lockout_minutes", FLOAT, "15", "`15`", "console sign-in"),
    Variable("CONSOLE_LOW_CONFIDENCE", "console_low_confidence", FLOAT, "0.5", "`0.5`", "console filters"),
    Variable("CONSOLE_TIMEZONE", "console_timezone", TEXT, "UTC", "`UTC`", "console dates"),
    Variable(
        "CONSOLE_SECURE_COOKIES", "console_secure_cookies", FLAG, "false", "`false`", "console cookies behind TLS"
    ),
    Variable(
        "RATE_LIMIT_PER_SENDER",
        "rate_limit_per_sender",
        TEXT,
        "20/30",
        "`20/30` (requests/seconds)",
        "the channels (429 with `Retry-After`)",
        example="20/30",
    ),
    Variable(
        "RATE_LIMIT_PER_CLIENT",
        "rate_limit_per_client",
        TEXT,
        "120/60",
        "`120/60` (requests/seconds)",
        "the channels (429 with `Retry-After`)",
        example="120/60",
    ),
    Variable(
        "TRUSTED_PROXIES",
        "trusted_proxies",
        LIST,
        "127.0.0.1/32,::1/128",
        "`127.0.0.1/32,::1/128`",
        "the channels: whose `X-Forwarded-For` counts",
    ),
    Variable("RETENTION_DAYS", "retention_days", INT, "90", "`90`", "`python -m practice.store.retention`"),
    Variable(
        "RUN_STATUS_FILE",
        "status_file",
        PATH,
        str(VAR / "run-status.json"),
        "`var/run-status.json`",
        "the launcher writes each process's state and restarts there; `make status` reads it",
        example="var/run-status.json",
        commented=True,
    ),
    Variable(
        "MODEL_DIR",
        "model_dir",
        PATH,
        str(PROJECT_ROOT / "models"),
        "`models/`",
        "the launcher",
        example="models",
        commented=True,
    ),
    Variable(
        "MODEL_RELOAD_SECONDS",
        "model_reload_seconds",
        _number(float, 1),
        "5",
        "`5`",
        "the running server reloads a promoted model file",
    ),
    Variable(
        "RETRAIN_DIR",
        "retrain_dir",
        PATH,
        str(VAR / "retrain"),
        "`var/retrain`",
        "retraining",
        example="var/retrain",
        commented=True,
    ),
    Variable(
        "RETRAIN_PROJECT_DIR",
        "retrain_project_dir",
        PATH,
        str(PROJECT_ROOT),
        "the repository",
        "retraining: whose data the inbox and retrain work on",
        example=".",
        commented=True,
    ),
    Variable(
        "RETRAIN_HOLDOUT_EVERY",
        "retrain_holdout_every",
        _number(int, 2),
        "4",
        "`4`",
        "retraining: every n-th approved example is held out",
    ),
)


def _defaults_from_file(path: Path) -> Dict[str, Any]:
    if not path.exists():
        return {}
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def load_settings(environ: Optional[Mapping[str, str]] = None, defaults_file: Path = DEFAULTS_FILE) -> Settings:
    """Resolve every setting from the environment; a blank or missing variable takes its default."""
    env = os.environ if environ is None else environ
    file_defaults = _defaults_from_file(defaults_file)
    resolved: Dict[str, Any] = {}
    for variable in VARIABLES:
        text = env.get(variable.name) or ""
        if not text:
            default = variable.default
            text = default(resolved, file_defaults) if callable(default) else default
        try:
            resolved[variable.field] = variable.reader.read(text)
        except ValueError:
            raise SettingsError(f"{variable.name}={text!r} is not valid: expected {variable.reader.kind}") from None
    return Settings(**resolved)


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return load_settings()


README_START = "<!-- settings table: generated by `python -m practice.settings --readme` -->"
README_END = "<!-- end of settings table -->"


def readme_table() -> str:
    """The README's settings table, one row per variable."""
    rows = ["| variable | default | what reads it |", "|---|---|---|"]
    rows += [f"| `{v.name}` | {v.shown_default} | {v.used_by} |" for v in VARIABLES]
    return "\n".join(rows)


def env_example() -> str:
    """`.env.example`: every variable with its default (paths commented out)."""
    lines = [
        "# Every setting, with its default (generated by `python -m practice.settings --env-example`",
        '# from practice/settings.py; README "Settings"). Export the ones you change before',
        "# `make run`; a blank value means the default. Never commit real secrets.",
    ]
    for v in VARIABLES:
        example = v.example if v.example is not None else v.shown_default.strip("`")
        lines.append(f"{'# ' if v.commented else ''}{v.name}={example}")
    return "\n".join(lines) + "\n"


def with_readme_table(readme: str) -> str:
    """The README with its settings table replaced by the generated one."""
    start = readme.index(README_START) + len(README_START)
    end = readme.index(README_END)
    return readme[:start] + "\n" + readme_table() + "\n" + readme[end:]


def main(argv: Sequence[str]) -> int:
    """`--readme` rewrites README.md's table, `--env-example` writes .env.example."""
    if "--readme" in argv:
        path = PROJECT_ROOT / "README.md"
        path.write_text(with_readme_table(path.read_text(encoding="utf-8")), encoding="utf-8")
    if "--env-example" in argv:
        (PROJECT_ROOT / ".env.example").write_text(env_example(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
