#!/usr/bin/env bash
# make install PREFIX=/usr/local [DESTDIR=staging]: the module make build made (stripped, with its
# split debug info), the shipped schemas, and a sample config to paste into redis.conf:
#   PREFIX/lib/redis-account/libredis_account.so, libredis_account.so.debug
#   PREFIX/share/redis-account/account.schema.json, lobby.schema.json, redis-account.conf
# The paths written into redis-account.conf are PREFIX's (DESTDIR only stages the files).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
prefix=${PREFIX:-/usr/local}
dest=${DESTDIR:-}
case "$prefix" in /*) ;; *) echo "PREFIX must be an absolute path, not '$prefix'" >&2; exit 1;; esac
dist="$root/target/dist"
[ -f "$dist/libredis_account.so" ] || { echo "$dist/libredis_account.so is missing: run make build" >&2; exit 1; }
lib="$prefix/lib/redis-account"
share="$prefix/share/redis-account"
install -d "$dest$lib" "$dest$share"
install -m 755 "$dist/libredis_account.so" "$dest$lib/libredis_account.so"
install -m 644 "$dist/libredis_account.so.debug" "$dest$lib/libredis_account.so.debug"
install -m 644 "$root/schema/account.schema.json" "$root/schema/lobby.schema.json" "$dest$share/"
cat >"$dest$share/redis-account.conf.tmp" <<EOF
# redis-account: add these lines to redis.conf (or pass them as --loadmodule arguments).
# RedisJSON 2.8 must be loaded first: rejson.so from Redis Stack 7.4 (lib/rejson.so) or a
# RedisJSON 2.8 release build (make deps puts Redis Stack's in .deps/stack/lib/rejson.so).
loadmodule /path/to/rejson.so
loadmodule $lib/libredis_account.so
# The schema in force: the shipped one is built in; to edit it, copy this file and point here.
# account.schema $share/account.schema.json
EOF
mv "$dest$share/redis-account.conf.tmp" "$dest$share/redis-account.conf"
chmod 644 "$dest$share/redis-account.conf"
echo "installed into $dest$prefix: lib/redis-account/libredis_account.so (+ .debug), share/redis-account/{account,lobby}.schema.json, redis-account.conf"
