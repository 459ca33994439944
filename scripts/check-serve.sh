#!/usr/bin/env bash
# make test's checks of the serving path, as a team on a stock Debian 12 would take it (two checks,
# one line each: "[serve] ok: ..." or "[serve] FAILED: ..."):
#  1. `make run` with a clean environment and a PATH of the OS's own directories and cargo's
#     only (no pyenv, no Python >= 3.12, no LD_LIBRARY_PATH): it serves the module; a command
#     answers; then it is stopped (only the process group this script started).
#  2. `make install PREFIX=<temporary>`: the files are there, and a server started from the
#     installed sample config (its rejson.so line pointed at .deps) serves the installed module
#     with the installed schema's hash.
# Exit status: the number of failed checks.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. scripts/lib.sh
failed=0
fail() { echo "[serve] FAILED: $*"; failed=$((failed + 1)); }
ok() { echo "[serve] ok: $*"; }

# The Stack's row of tests/servers.tsv: binary, lib, cli.
IFS=$'\t' read -r _ _ _ sbin slib scli < <(awk -F'\t' '$1 == "stack-7.4"' tests/servers.tsv)
slib=$(abs_libs "$slib"); sbin="$root/$sbin"; scli="$root/$scli"
cli() { LD_LIBRARY_PATH="$slib" "$scli" -p "$1" "${@:2}" 2>&1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_ping() { # wait_ping PORT SECONDS
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    [ "$(cli "$1" PING)" = PONG ] && return 0
    sleep 0.1
  done
  return 1
}
stop_group() { kill -- -"$1" 2>/dev/null; for _ in $(seq 50); do kill -0 -- -"$1" 2>/dev/null || return 0; sleep 0.1; done; kill -9 -- -"$1" 2>/dev/null; }

# --- 1. make run with only the OS's Python -------------------------------------------------------
cargo_dir=$(dirname "$(command -v "${CARGO:-cargo}")")
os_path="$cargo_dir:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
py=$(env -i PATH="$os_path" python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo none)
newer=$(env -i PATH="$os_path" bash -c 'for p in python3.12 python3.13 python3.14; do command -v $p; done' || true)
# What make run would run: only the serving part of the deps (never deps.sh all, deps-pydantic.sh
# or valgrind), whether or not those happen to be installed already on this machine.
plan=$(make --no-print-directory -n run PORT=1 2>&1)
if grep -qE 'deps-pydantic|deps\.sh( all)?$|deps\.sh all|valgrind' <<<"$plan"; then
  fail "make run would install what only make test needs: $(grep -E 'deps-pydantic|deps\.sh|valgrind' <<<"$plan" | tr '\n' ';')"
elif [ -n "$newer" ]; then
  fail "make run with the OS's Python only: this PATH has $newer, so the check proves nothing here"
else
  port=$(free_port)
  log=$(mktemp)
  setsid env -i HOME="$HOME" PATH="$os_path" make --no-print-directory run PORT="$port" >"$log" 2>&1 </dev/null &
  pg=$!
  if wait_ping "$port" 600 && [ "$(cli "$port" ACCOUNT.CREATE check:serve:1)" = OK ] \
     && [ "$(cli "$port" ACCOUNT.DAMAGE check:serve:1 5 | tr '\n' ' ')" = "95 5 " ]; then
    ok "make run with PATH=$os_path (python3 $py, no Python >= 3.12) serves the module on $port"
  else
    fail "make run with PATH=$os_path (python3 $py) did not serve the module on $port: $(tail -n 5 "$log")"
  fi
  stop_group "$pg"
  wait "$pg" 2>/dev/null
  rm -f "$log"
  env -i HOME="$HOME" PATH="$os_path" make --no-print-directory reset SERVER=stack-7.4 PORT="$port" >/dev/null 2>&1 || true
fi

# --- 2. make install PREFIX=... and a server from the installed sample config -------------------
prefix=$(mktemp -d)
if ! out=$(make --no-print-directory install PREFIX="$prefix" 2>&1); then
  fail "make install PREFIX=$prefix: $out"
else
  missing=""
  for f in lib/redis-account/libredis_account.so lib/redis-account/libredis_account.so.debug \
           share/redis-account/account.schema.json share/redis-account/lobby.schema.json share/redis-account/redis-account.conf; do
    [ -s "$prefix/$f" ] || missing="$missing $f"
  done
  if [ -n "$missing" ]; then
    fail "make install PREFIX=$prefix lacks$missing"
  elif readelf -S "$prefix/lib/redis-account/libredis_account.so" | grep -q '\.debug_info'; then
    fail "the installed module still carries debug info"
  else
    port=$(free_port)
    conf="$prefix/test.conf"
    # The sample config as installed, its placeholder rejson.so line pointed at .deps's.
    sed -e "s|^loadmodule /path/to/rejson.so|loadmodule $root/.deps/stack/lib/rejson.so|" \
        -e "s|^# account.schema |account.schema |" "$prefix/share/redis-account/redis-account.conf" >"$conf"
    printf 'port %s\nbind 127.0.0.1\nsave ""\nappendonly no\ndir %s\nlogfile server.log\n' "$port" "$prefix" >>"$conf"
    setsid env LD_LIBRARY_PATH="$slib" "$sbin" "$conf" </dev/null >/dev/null 2>&1 &
    pg=$!
    src=$(wait_ping "$port" 30 && cli "$port" ACCOUNT.SCHEMA GET | sed -n 4p)
    if [ "$src" = "$prefix/share/redis-account/account.schema.json" ] \
       && [ "$(cli "$port" ACCOUNT.CREATE ac:1)" = OK ] \
       && cli "$port" MODULE LIST | grep -qx "$prefix/lib/redis-account/libredis_account.so"; then
      ok "make install PREFIX=$prefix: a server from the installed redis-account.conf serves the installed module and schema"
    else
      fail "a server from the installed redis-account.conf did not serve the installed module: source '$src'; $(tail -n 5 "$prefix/server.log" 2>/dev/null)"
    fi
    stop_group "$pg"
    wait "$pg" 2>/dev/null
  fi
fi
rm -rf "$prefix"
exit "$failed"
