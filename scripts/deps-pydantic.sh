#!/usr/bin/env bash
# The Python that generates a schema with pydantic, as the game does (tests/schema.rs): a venv in
# .deps/py312 on Python >= 3.12 (the game's TypedDicts need it) with pydantic pinned. Idempotent.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.deps/py312"
want='pydantic==2.10.6'
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import pydantic, sys; assert pydantic.VERSION == "2.10.6"' 2>/dev/null; then
  exit 0
fi
py=""
for c in python3.13 python3.12 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[2-9]*/bin/python3; do
  if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; assert sys.version_info >= (3, 12)' 2>/dev/null; then
    py=$(command -v "$c"); break
  fi
done
if [ -z "$py" ]; then
  echo "[deps] no Python >= 3.12 found (python3.12, python3.13 or a pyenv version): needed to generate a schema with pydantic" >&2
  exit 1
fi
echo "[deps] preparing $venv with $want ($py)" >&2
rm -rf "$venv"
"$py" -m venv "$venv"
"$venv/bin/pip" install -q "$want"
