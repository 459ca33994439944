#!/usr/bin/env bash
# make cluster: a three-primary cluster of one server of tests/servers.tsv (SERVER, default
# stack-7.4) on 127.0.0.1, every node loading RedisJSON and this module. `scripts/cluster.sh stop`
# stops the nodes this script started (their pids are in .deps/cluster/PORT/server.pid), and no
# other process. Ports: CLUSTER_PORT (7001) and the two after it; if one of them (or its bus port,
# +10000) is taken, it says so and exits with status 1. make test runs the cluster flows in its
# own clusters (clients/python/tests, test_flows_over_a_cluster / test_multi_key_commands_in_a_cluster).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# LD_LIBRARY_PATH from the lib column: each ":"-separated directory made absolute ("-": none).
# abs_libs, die, ours_in
. "$root/scripts/lib.sh"
cd "$root"
server=${SERVER:-stack-7.4}
base=${CLUSTER_PORT:-7001}
ports=("$base" "$((base + 1))" "$((base + 2))")

found=0
while IFS=$'\t' read -r n kind version bin lib cli; do
  case "$n" in ''|'#'*|name) continue;; esac
  [ "$n" = "$server" ] || continue
  found=1; lib=$(abs_libs "$lib"); bin="$root/$bin"; cli="$root/$cli"; break
done <tests/servers.tsv
[ $found = 1 ] || die "unknown SERVER '$server'; see tests/servers.tsv"
export LD_LIBRARY_PATH="$lib"
c() { "$cli" "$@"; }

# Taken: something listens there, or the port cannot be bound (say it is a connection's local port).
taken() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
  ! python3 -c 'import socket,sys; s=socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null
}

if [ "${1:-}" = stop ]; then
  for p in "${ports[@]}"; do
    if pid=$(ours_in ".deps/cluster/$p"); then kill -TERM "$pid"; echo "stopped node $p (pid $pid)"; fi
  done
  exit 0
fi

for p in "${ports[@]}"; do
  ! ours_in ".deps/cluster/$p" >/dev/null || die "a node of ours already runs on $p: scripts/cluster.sh stop first"
  ! taken "$p" && ! taken "$((p + 10000))" || die "port $p or $((p + 10000)) is taken by another process (left alone): CLUSTER_PORT=7101 make cluster"
done
for p in "${ports[@]}"; do
  d="$root/.deps/cluster/$p"
  rm -rf "$d"; mkdir -p "$d"   # no node of ours runs there (checked above)
  "$bin" --port "$p" --bind 127.0.0.1 --dir "$d" --daemonize yes --logfile redis.log --pidfile "$d/server.pid" \
    --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 5000 --appendonly yes --lazyfree-lazy-user-flush no \
    --loadmodule "$root/.deps/stack/lib/rejson.so" --loadmodule "$root/target/release/libredis_account.so"
done
for p in "${ports[@]}"; do
  for _ in $(seq 100); do c -p "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done
done
c --cluster create "${ports[@]/#/127.0.0.1:}" --cluster-yes >/dev/null
for _ in $(seq 100); do
  [ "$(c -p "$base" cluster info | tr -d '\r' | grep cluster_state)" = "cluster_state:ok" ] && break
  sleep 0.1
done
# A smoke check across slots: accounts on every primary, a tagged multi-key call, a CROSSSLOT.
for i in 1 2 3 4 5 6; do c -c -p "$base" ACCOUNT.CREATE "ac:$i" >/dev/null; done
c -c -p "$base" ACCOUNT.CREATE '{party}ac:1' >/dev/null
c -c -p "$base" ACCOUNT.CREATE '{party}ac:2' >/dev/null
echo "ACCOUNT.LINK on one hash tag: $(c -c -p "$base" ACCOUNT.LINK combat c1 '{party}ac:1' '{party}ac:2')"
echo "ACCOUNT.LINK across slots:   $(c -p "$base" ACCOUNT.LINK combat c1 ac:1 ac:2 2>&1)"
echo "$server cluster up: LD_LIBRARY_PATH=$lib $cli -c -p $base   (stop: make cluster-stop)"
