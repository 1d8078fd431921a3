"""`python -m practice.rasa_runtime ...`: `rasa ...` with the practice's patches applied."""

from __future__ import annotations

import sys
from typing import Sequence

from practice.settings import get_settings


def main(argv: Sequence[str] | None = None) -> None:
    """Check this Rasa, install the fixes, then hand the command line to Rasa's own entry point."""
    from importlib.metadata import version

    from practice import quiet
    from practice.rasa_runtime import OVERRIDES, PATCHES, install, performance
    from practice.rasa_runtime.contract import broken
    from practice.rasa_runtime.version import check_rasa_version

    refused = check_rasa_version(version("rasa"))
    if refused is not None:
        print(refused, file=sys.stderr)
        raise SystemExit(2)
    quiet.install()  # library deprecation warnings off the terminal (practice/quiet.py)
    performance.preload()  # before anything imports TensorFlow
    # Before anything is patched: each target as Rasa defines it.
    misfits = broken(PATCHES + OVERRIDES)
    if misfits:
        print("This Rasa does not have the internals the patches assume:", *misfits, sep="\n  ", file=sys.stderr)
        raise SystemExit(2)
    install(get_settings())
    from rasa.__main__ import main as rasa_main

    if argv is not None:
        sys.argv = [sys.argv[0], *argv]
    rasa_main()


if __name__ == "__main__":
    main()
