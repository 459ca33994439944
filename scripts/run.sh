#!/usr/bin/env bash
# make run / make cli / make reset: one server of tests/servers.tsv with RedisJSON 2.8.3 and this
# module, in the foreground, on 127.0.0.1:PORT.
#
#   scripts/run.sh run   [SERVER=stack-7.4] [PORT=6379]   start it (Ctrl-C stops it)
#   scripts/run.sh cli   [PORT=6379] [args...]            its cli, with the right LD_LIBRARY_PATH
#   scripts/run.sh reset [SERVER=...] [PORT=...]          delete the data of `run`
#
# SERVER and PORT come from the environment (make passes them). Each server and port has its own
# data directory, .deps/run/SERVER-PORT/, holding a copy of redis.conf (refreshed when the tracked
# file is newer), so CONFIG REWRITE edits the copy, never the tracked file. If PORT is taken, this
# says so and exits with status 1: it never stops anything it did not start.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# LD_LIBRARY_PATH from the lib column: each ":"-separated directory made absolute ("-": none).
# abs_libs, die, ours_in
. "$root/scripts/lib.sh"
cd "$root"
what=${1:-run}; shift || true
port=${PORT:-6379}
server=${SERVER:-}

[[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] || die "PORT must be a port number, not '$port'"

# The fields of one server in tests/servers.tsv.
lookup() {
  local n
  while IFS=$'\t' read -r n kind version bin lib cli; do
    case "$n" in ''|'#'*|name) continue;; esac
    if [ "$n" = "$1" ]; then
      lib=$(abs_libs "$lib")
      bin="$root/$bin"; cli="$root/$cli"
      return 0
    fi
  done <tests/servers.tsv
  return 1
}
names() { awk -F'\t' '!/^#/ && $1 != "name" && NF {printf "%s ", $1}' tests/servers.tsv; }


port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

case "$what" in
run)
  server=${server:-stack-7.4}
  lookup "$server" || die "unknown SERVER '$server'; supported: $(names)"
  rejson="$root/.deps/stack/lib/rejson.so"
  module="$root/target/release/libredis_account.so"
  [ -x "$bin" ] || die "$bin is missing: run make deps"
  [ -f "$module" ] || die "$module is missing: run make build"
  if port_taken "$port"; then
    for d in .deps/run/*-"$port"; do
      pid=$(ours_in "$d") && die "a server of ours (pid $pid, ${d#.deps/run/}) already runs on $port: make cli PORT=$port"
    done
    die "port $port on 127.0.0.1 is taken by another process; it is left alone. Choose another: make run PORT=6390"
  fi
  dir="$root/.deps/run/$server-$port"
  mkdir -p "$dir"
  conf="$dir/redis.conf"
  if [ ! -f "$conf" ] || [ redis.conf -nt "$conf" ]; then
    # The tracked redis.conf with this run's port, directory and module paths.
    sed -e "s|^port .*|port $port|" -e "s|^dir .*|dir $dir|" \
        -e "s|^loadmodule .*rejson\.so.*|loadmodule $rejson|" \
        -e "s|^loadmodule .*libredis_account\.so.*|loadmodule $module|" redis.conf >"$conf.tmp"
    mv "$conf.tmp" "$conf"
  fi
  echo "$server ($version) + RedisJSON 2.8.3 + account on 127.0.0.1:$port, data in ${dir#"$root"/} (Ctrl-C stops it; make cli PORT=$port)"
  export LD_LIBRARY_PATH="$lib"
  exec "$bin" "$conf" --port "$port" --pidfile "$dir/server.pid"
  ;;
cli)
  # The server of ours on this port, if one runs; else SERVER (default stack-7.4).
  if [ -z "$server" ]; then
    for d in .deps/run/*-"$port"; do
      [ -d "$d" ] && ours_in "$d" >/dev/null && { server=$(basename "$d"); server=${server%-"$port"}; break; }
    done
  fi
  server=${server:-stack-7.4}
  lookup "$server" || die "unknown SERVER '$server'; supported: $(names)"
  export LD_LIBRARY_PATH="$lib"
  exec "$cli" -p "$port" "$@"
  ;;
reset)
  # Every run directory, or only SERVER's and/or PORT's when given; never one a server of ours uses.
  shopt -s nullglob
  pat="${server:-*}-${PORT:-*}"
  n=0 kept=0
  for d in .deps/run/$pat; do
    [ -d "$d" ] || continue
    if pid=$(ours_in "$d"); then
      echo "kept $d: a server of ours (pid $pid) runs there; stop it (Ctrl-C) and reset again" >&2
      kept=$((kept + 1)); continue
    fi
    rm -rf "$d"; echo "deleted $d"; n=$((n + 1))
  done
  [ "$n" -gt 0 ] || [ "$kept" -gt 0 ] || echo "no data to delete under .deps/run/$pat"
  [ "$kept" = 0 ]
  ;;
*) die "usage: scripts/run.sh run|cli|reset" ;;
esac
