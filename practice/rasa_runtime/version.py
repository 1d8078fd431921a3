"""The Rasa release these patches were written for; any other minor version is refused."""

from __future__ import annotations

# The Rasa these patches were written against (tests/unit/test_rasa_contract.py checks each
# patched target's parameters); any other minor version is refused at start.
SUPPORTED_RASA = "3.6."


def check_rasa_version(version: str) -> str | None:
    """Why this Rasa cannot be patched safely, or None when it is a 3.6 release."""
    if version.startswith(SUPPORTED_RASA):
        return None
    return (
        f"Rasa {version} is installed; this project patches Rasa {SUPPORTED_RASA}x internals "
        "and runs only on it (requirements.lock pins rasa==3.6.21). Run `make setup`."
    )
