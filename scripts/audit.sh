#!/usr/bin/env bash
# Known vulnerabilities in the locked dependencies (requirements.lock), with pip-audit.
#
# pip-audit lives in its own venv (.venv-audit): installed next to Rasa it would fight over
# CacheControl's pin. It only reads the lock file (--no-deps --disable-pip): nothing of the
# project is installed there. Findings accepted after review are listed with their reasons
# in docs/AUDIT.md (rows starting "| GHSA-", "| PYSEC-", "| CVE-"); any other finding fails.
# --strict: a package whose advisories cannot be fetched (no access to PyPI's JSON API) fails
# the audit too, instead of passing as "no known vulnerabilities".
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PIP_AUDIT_VERSION=2.10.1
VENV=.venv-audit
if [ ! -x "$VENV/bin/pip-audit" ] || ! "$VENV/bin/pip-audit" --version | grep -q "$PIP_AUDIT_VERSION"; then
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "pip-audit==$PIP_AUDIT_VERSION"
fi
ignores=()
while read -r id; do
  ignores+=(--ignore-vuln "$id")
done < <(grep -oE '^\| *(GHSA-[a-z0-9-]+|PYSEC-[0-9-]+|CVE-[0-9-]+)' docs/AUDIT.md | tr -d '| ')
echo "pip-audit $PIP_AUDIT_VERSION on requirements.lock (${#ignores[@]} accepted finding(s) skipped, see docs/AUDIT.md)"
"$VENV/bin/pip-audit" --requirement requirements.lock --no-deps --disable-pip \
  --strict --progress-spinner off --desc on "${ignores[@]}" "$@"
