"""`python -m practice.console.accounts`: create and manage console accounts from a terminal.

The password comes from the CONSOLE_PASSWORD environment variable when set, else from the
first line of standard input when it is not a terminal (for automation), else a prompt:

    python -m practice.console.accounts create --username sam --role coach
    printf '%s\\n' "$PW" | python -m practice.console.accounts create --username sam --role staff
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import secrets
import sys
from typing import Optional, Sequence, TextIO

from sqlalchemy.engine import Engine

from practice.console import audit, auth, db
from practice.settings import Settings, get_settings
from practice.store.database import create_engine


def read_password(settings: Settings, stdin: TextIO = sys.stdin) -> str:
    """The new password: CONSOLE_PASSWORD, else stdin's first line, else asked twice."""
    if settings.console_password:
        return settings.console_password
    if not stdin.isatty():
        return stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise auth.AccountError("the passwords differ")
    return first


FIRST_ACCOUNT = "admin"


def ensure_first_account(settings: Settings) -> Optional[tuple[str, str]]:
    """On a database with no accounts, create a staff account; return (username, password).

    The password is CONSOLE_PASSWORD when set, else a random one shown once to whoever
    ran `make run`, so a new practice can sign in without reading the docs first.
    """
    engine = create_engine(settings.database_url)
    try:
        db.ensure_schema(engine)
        if auth.list_accounts(engine):
            return None
        password = settings.console_password or secrets.token_urlsafe(12)
        account = audit.audited(
            engine,
            "launcher",
            "account_created",
            None,
            lambda connection: auth.create_account(connection, FIRST_ACCOUNT, password, "staff"),
            lambda created: f"{created.username} (staff)",
        )
        return account.username, password
    finally:
        engine.dispose()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m practice.console.accounts",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="create an account")
    create.add_argument("--username", required=True)
    create.add_argument("--role", required=True, choices=auth.ROLES)
    create.add_argument(
        "--if-missing", action="store_true", help="succeed quietly when the account exists (for seeding scripts)"
    )
    password = sub.add_parser("set-password", help="change a password (ends its sessions)")
    password.add_argument("--username", required=True)
    role = sub.add_parser("set-role", help="change an account's role")
    role.add_argument("--username", required=True)
    role.add_argument("--role", required=True, choices=auth.ROLES)
    for name, text in (
        ("unlock", "lift a lockout after failed sign-ins"),
        ("disable", "stop an account from signing in"),
        ("enable", "let a disabled account sign in again"),
    ):
        command = sub.add_parser(name, help=text)
        command.add_argument("--username", required=True)
    sub.add_parser("list", help="list the accounts")
    return parser


def main(argv: Optional[Sequence[str]] = None, settings: Optional[Settings] = None) -> int:
    """Run one accounts command; return the exit code."""
    args = _parser().parse_args(argv)
    settings = settings or get_settings()
    engine = create_engine(settings.database_url)
    try:
        db.ensure_schema(engine)
        return _run(args, settings, engine)
    except auth.AccountError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()


def _run(args: argparse.Namespace, settings: Settings, engine: Engine) -> int:
    if args.command == "list":
        for account in auth.list_accounts(engine):
            locked = ""
            if account.locked_until:
                until = dt.datetime.fromtimestamp(account.locked_until)
                locked = " locked until " + until.isoformat(timespec="minutes")
            state = "" if account.active else " (disabled)"
            print(f"{account.username}\t{account.role}{state}{locked}")
        return 0
    if args.command == "create":
        if args.if_missing and auth.get_account(engine, args.username):
            print(f"account {args.username.strip().lower()} exists")
            return 0
        password = read_password(settings)
        account = audit.audited(
            engine,
            "command-line",
            "account_created",
            None,
            lambda connection: auth.create_account(connection, args.username, password, args.role),
            lambda created: f"{created.username} ({created.role})",
        )
        print(f"created {account.role} account {account.username}")
        return 0
    changes = {
        "set-password": lambda: {"password": read_password(settings)},
        "set-role": lambda: {"role": args.role},
        "unlock": lambda: {"unlock": True},
        "disable": lambda: {"active": False},
        "enable": lambda: {"active": True},
    }[args.command]()
    account = audit.audited(
        engine,
        "command-line",
        f"account_{args.command}",
        None,
        lambda connection: auth.update_account(connection, args.username, **changes),
        lambda changed: changed.username,
    )
    print(f"{args.command}: {account.username} ({account.role})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
