"""Library deprecation warnings kept off the terminal; the project's own warnings kept.

`make run` used to print screens of them: Sanic turns every DeprecationWarning on at
import (`filterwarnings("once", DeprecationWarning)`, placed before any filter set
earlier), and pkg_resources, pyparsing, click, SQLAlchemy and distutils each have some.
None is something the practice can act on. A filter cannot express "except our own
code" robustly (Sanic's filter goes in front of it), so the check sits where a warning
is shown: a DeprecationWarning, PendingDeprecationWarning or FutureWarning raised in a
file outside the project's own folders is dropped; every other warning, and every
warning whose reported line is in `practice/` or `actions/` (our code calling something
deprecated), is shown as before. Errors and log lines are not warnings: untouched.

Every process the launcher starts applies it: the Rasa server through practice.rasa_runtime,
the others through `python -m practice.quiet <module> [args]`, which runs the module as
`python -m <module> [args]` would.
"""

from __future__ import annotations

import runpy
import sys
import warnings
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

PROJECT_ROOT = Path(__file__).resolve().parent.parent
OWN_FOLDERS = tuple(str(PROJECT_ROOT / name) + "/" for name in ("practice", "actions"))
QUIETED = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)


def is_library_deprecation(category: type, filename: str) -> bool:
    """True for a deprecation-type warning reported in a file that is not the project's."""
    if not issubclass(category, QUIETED):
        return False
    path = str(Path(filename).resolve()) if filename else ""
    return not path.startswith(OWN_FOLDERS)


def quieting(show: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap `warnings.showwarning` so library deprecations are not shown."""

    def showwarning(
        message: Any, category: type, filename: str, lineno: int, file: Any = None, line: Optional[str] = None
    ) -> Any:
        if is_library_deprecation(category, filename):
            return None
        return show(message, category, filename, lineno, file, line)

    showwarning.quiet = True  # type: ignore[attr-defined]
    return showwarning


def install() -> None:
    """Apply it in this process (idempotent)."""
    if not getattr(warnings.showwarning, "quiet", False):
        warnings.showwarning = quieting(warnings.showwarning)


def main(argv: Optional[Sequence[str]] = None) -> None:
    """`python -m practice.quiet MODULE [ARGS]`: `python -m MODULE [ARGS]`, quietly."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        sys.exit("usage: python -m practice.quiet MODULE [ARGS]")
    install()
    sys.argv = args
    runpy.run_module(args[0], run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
