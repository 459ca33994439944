#!/usr/bin/env bash
# make cluster: a three-primary Redis Cluster (Redis Stack 7.4.1) on 127.0.0.1, every node loading
# RedisJSON and this module. `scripts/cluster.sh stop` stops it. Ports: CLUSTER_PORT (7001) and
# the two after it; data under .deps/cluster/. make test runs the cluster flows in its own cluster
# (clients/python/tests, test_flows_over_a_cluster / test_multi_key_commands_in_a_cluster).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
stack="$root/.deps/stack"
export LD_LIBRARY_PATH="$root/.deps/ssl/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
base=${CLUSTER_PORT:-7001}
ports=("$base" "$((base + 1))" "$((base + 2))")
cli() { "$stack/bin/redis-cli" "$@"; }

if [ "${1:-}" = stop ]; then
  for p in "${ports[@]}"; do cli -p "$p" shutdown nosave >/dev/null 2>&1 || true; done
  echo "cluster on ${ports[*]} stopped"
  exit 0
fi

for p in "${ports[@]}"; do
  d="$root/.deps/cluster/$p"
  rm -rf "$d"; mkdir -p "$d"
  "$stack/bin/redis-server" --port "$p" --bind 127.0.0.1 --dir "$d" --daemonize yes --logfile redis.log \
    --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 5000 --appendonly yes \
    --loadmodule "$stack/lib/rejson.so" --loadmodule "$root/target/release/libredis_account.so"
done
for p in "${ports[@]}"; do
  for _ in $(seq 100); do cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done
done
cli --cluster create "${ports[@]/#/127.0.0.1:}" --cluster-yes >/dev/null
for _ in $(seq 100); do
  [ "$(cli -p "$base" cluster info | tr -d '\r' | grep cluster_state)" = "cluster_state:ok" ] && break
  sleep 0.1
done
# A smoke check across slots: accounts on every primary, a tagged multi-key call, a CROSSSLOT.
for i in 1 2 3 4 5 6; do cli -c -p "$base" ACCOUNT.CREATE "ac:$i" >/dev/null; done
cli -c -p "$base" ACCOUNT.CREATE '{party}ac:1' >/dev/null
cli -c -p "$base" ACCOUNT.CREATE '{party}ac:2' >/dev/null
echo "ACCOUNT.LINK on one hash tag: $(cli -c -p "$base" ACCOUNT.LINK combat c1 '{party}ac:1' '{party}ac:2')"
echo "ACCOUNT.LINK across slots:   $(cli -p "$base" ACCOUNT.LINK combat c1 ac:1 ac:2 2>&1)"
echo "cluster up: redis-cli -c -p $base   (stop: scripts/cluster.sh stop)"
