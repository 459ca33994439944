# Shared by scripts/run.sh and scripts/cluster.sh (sourced; `root` is the repository root).

# tests/servers.tsv's lib column ("-" or ":"-separated directories) as absolute paths.
abs_libs() { local out="" d; [ "$1" = - ] && return 0; IFS=: read -ra ds <<<"$1"; for d in "${ds[@]}"; do out="${out:+$out:}$root/$d"; done; echo "$out"; }

die() { printf '%s\n' "$*" >&2; exit 1; }

# A server of ours that runs with its data in DIR: the pid in DIR/server.pid is alive, runs one
# of the binaries under .deps and works in DIR (a server chdirs to its `dir`), so a reused pid
# never counts. Prints the pid.
ours_in() {
  local pid
  pid=$(cat "$1/server.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  [[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" == "$(readlink -f "$root/.deps")"/* ]] || return 1
  [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$(readlink -f "$1")" ] || return 1
  echo "$pid"
}
