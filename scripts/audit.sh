#!/usr/bin/env bash
# Known vulnerabilities in the locked dependencies (requirements.lock). docs/AUDIT.md explains.
#
# 1. Live: pip-audit against PyPI's advisory data (the PyPA advisory database plus GitHub's,
#    through PyPI's per-version JSON API). pip-audit lives in its own venv (.venv-audit):
#    installed next to Rasa it would fight over CacheControl's pin. It only reads the lock file
#    (--no-deps --disable-pip); --strict fails on a package it cannot look up.
# 2. Offline fallback, when that API does not answer (or pip-audit cannot be installed):
#    scripts/audit_offline.py evaluates every pin against the committed snapshot
#    security/pypa-advisories.json. It prints the snapshot's date and fails on an unaccepted
#    finding, on a package never looked up for the snapshot, or on an unaccepted coverage gap.
#
# Findings accepted after review are listed with their reasons in docs/AUDIT.md (rows starting
# "| GHSA-", "| PYSEC-", "| CVE-"; both modes honour them, the offline one also by alias).
# AUDIT_MODE=live or AUDIT_MODE=offline forces one mode (live then fails instead of falling back).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PIP_AUDIT_VERSION=2.10.1
VENV=.venv-audit
MODE="${AUDIT_MODE:-auto}"
PY="${PY:-$ROOT/.venv/bin/python}"
[ -x "$PY" ] || PY=python3

offline() {
  echo "audit source: OFFLINE snapshot security/pypa-advisories.json ($1)"
  exec "$PY" scripts/audit_offline.py
}

# Does PyPI's per-version JSON API (the one pip-audit's PyPI service asks) answer here?
probe() {
  local first name version
  first="$(grep -m1 -E '^[A-Za-z0-9_.-]+==' requirements.lock)"
  name="${first%%==*}"
  version="${first#*==}"
  python3 - "$name" "$version" <<'EOF'
import sys, urllib.request
url = f"https://pypi.org/pypi/{sys.argv[1]}/{sys.argv[2]}/json"
try:
    with urllib.request.urlopen(url, timeout=15) as r:
        sys.exit(0 if r.status == 200 else 1)
except Exception:
    sys.exit(1)
EOF
}

if [ "$MODE" = offline ]; then
  offline "AUDIT_MODE=offline"
fi
if ! probe; then
  [ "$MODE" = live ] && { echo "audit: PyPI's advisory API (/pypi/<name>/<version>/json) does not answer; AUDIT_MODE=live fails" >&2; exit 1; }
  offline "PyPI's per-version JSON API does not answer here, so pip-audit has no advisory data"
fi
if [ ! -x "$VENV/bin/pip-audit" ] || ! "$VENV/bin/pip-audit" --version | grep -q "$PIP_AUDIT_VERSION"; then
  if ! { python3 -m venv "$VENV" && "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "pip-audit==$PIP_AUDIT_VERSION"; }; then
    [ "$MODE" = live ] && { echo "audit: cannot install pip-audit $PIP_AUDIT_VERSION; AUDIT_MODE=live fails" >&2; exit 1; }
    offline "pip-audit $PIP_AUDIT_VERSION could not be installed"
  fi
fi
ignores=()
accepted=0
while read -r id; do
  ignores+=(--ignore-vuln "$id")
  accepted=$((accepted + 1))
done < <(grep -oE '^\| *(GHSA-[a-z0-9-]+|PYSEC-[0-9-]+|CVE-[0-9-]+)' docs/AUDIT.md | tr -d '| ')
echo "audit source: LIVE pip-audit $PIP_AUDIT_VERSION on requirements.lock via PyPI ($accepted accepted finding(s) skipped, see docs/AUDIT.md)"
"$VENV/bin/pip-audit" --requirement requirements.lock --no-deps --disable-pip \
  --strict --progress-spinner off --desc on "${ignores[@]}" "$@"
