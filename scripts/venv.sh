#!/usr/bin/env bash
# Create .venv with CPython 3.10 (Rasa 3.6 needs 3.8-3.10) and install the locked dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  local candidates=()
  [ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
  if command -v pyenv >/dev/null 2>&1; then
    candidates+=("$(pyenv root)/versions/3.10.13/bin/python3.10")
    for dir in "$(pyenv root)"/versions/3.10.*; do candidates+=("$dir/bin/python3.10"); done
  fi
  candidates+=("$HOME/.pyenv/versions/3.10.13/bin/python3.10" python3.10)
  for py in "${candidates[@]}"; do
    if PYENV_VERSION=3.10.13 "$py" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
      echo "$py"; return 0
    fi
  done
  return 1
}

if [ ! -x .venv/bin/python ]; then
  if ! py=$(find_python); then
    echo "No Python 3.10 found. Rasa 3.6.21 needs Python 3.8-3.10." >&2
    echo "Install one (e.g. 'pyenv install 3.10.13') or set PYTHON=/path/to/python3.10." >&2
    exit 1
  fi
  echo "Creating .venv with $py"
  PYENV_VERSION=3.10.13 "$py" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade "pip<25" wheel
echo "Installing locked dependencies (a first install takes about two minutes) ..."
.venv/bin/python -m pip install --quiet -r requirements.lock -r requirements.in
.venv/bin/python -m pip install --quiet --no-deps -e .
