#!/usr/bin/env bash
# make test's library check: every server binary and cli of tests/servers.tsv, and the Stack's
# modules (rejson.so, redisbloom.so, redistimeseries.so, loaded into every server), and the
# module built here (target/release/libredis_account.so, when present) resolve each
# library they link, with the row's lib column as LD_LIBRARY_PATH, either under .deps/ or to one
# of the base OS's libraries below. Anything else ("not found", or a system copy of libssl,
# liblzf, libjemalloc, ...) fails: a test that passes only because the machine happens to have
# a system Redis or OpenSSL installed would fail on a fresh one.
#
# The base OS (Debian 12 as installed, `apt` included): glibc (libc, libm, libdl, libpthread,
# librt, ld-linux), libgcc_s and libstdc++ (both needed by apt), and libsystemd0 with what it
# links (libcap2, libgcrypt20, libgpg-error0, liblzma5, libzstd1, liblz4-1): apt depends on
# libsystemd0, so every Debian 12 has them. Debian's Redis 7.0.15 links libsystemd.
#
# scripts/check-libs.sh [SERVERS_TSV]   (prints one line per problem; exit 1 if any)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tsv=${1:-$root/tests/servers.tsv}
. "$root/scripts/lib.sh"
deps=$(readlink -f "$root/.deps")

base='^(linux-vdso\.so\.1|ld-linux-x86-64\.so\.2|libc\.so\.6|libm\.so\.6|libdl\.so\.2|libpthread\.so\.0|librt\.so\.1|libgcc_s\.so\.1|libstdc\+\+\.so\.6|libsystemd\.so\.0|libcap\.so\.2|libgcrypt\.so\.20|libgpg-error\.so\.0|liblzma\.so\.5|libzstd\.so\.1|liblz4\.so\.1)$'

bad=0 checked=0
# check NAME FILE LIB: ldd FILE with LD_LIBRARY_PATH=LIB; every resolved library must be under
# .deps/ (also through a symlink) or a base OS library.
check() {
  local name=$1 file=$2 lib=$3 out line soname target
  if [ ! -e "$file" ]; then echo "[libs] $name: $file is missing (make deps)"; bad=$((bad + 1)); return; fi
  out=$(LD_LIBRARY_PATH="$lib" ldd "$file" 2>&1) || { echo "[libs] $name: ldd $file failed: $out"; bad=$((bad + 1)); return; }
  checked=$((checked + 1))
  while IFS= read -r line; do
    line=${line#"${line%%[![:space:]]*}"}
    [ -n "$line" ] || continue
    if [[ "$line" == *"not found"* ]]; then
      echo "[libs] $name: ${file#"$root/"}: $line"; bad=$((bad + 1)); continue
    fi
    if [[ "$line" == *" => "* ]]; then
      soname=${line%% => *}; target=${line#* => }; target=${target%% (*}
    else # "/lib64/ld-linux-x86-64.so.2 (0x...)" or "linux-vdso.so.1 (0x...)"
      target=${line%% (*}; soname=${target##*/}
    fi
    [[ "$target" == /* ]] && [[ "$(readlink -f "$target")" == "$deps"/* ]] && continue
    [[ "$soname" =~ $base ]] && continue
    echo "[libs] $name: ${file#"$root/"}: $soname resolves to $target, outside .deps/ and not a base OS library"
    bad=$((bad + 1))
  done <<<"$out"
}

while IFS=$'\t' read -r name kind version bin lib cli; do
  case "$name" in ''|'#'*|name) continue;; esac
  lib=$(abs_libs "$lib")
  check "$name" "$root/$bin" "$lib"
  check "$name" "$root/$cli" "$lib"
  for so in "$root"/.deps/stack/lib/*.so; do check "$name" "$so" "$lib"; done
done <"$tsv"

# The module itself (make test builds it first): base OS libraries only.
mod=${ACCOUNT_SO:-$root/target/release/libredis_account.so}
[ -e "$mod" ] && check module "$mod" ""

if [ "$bad" -gt 0 ]; then
  echo "[libs] $bad problem(s) in $checked files: see above"
  exit 1
fi
echo "[libs] $checked files (servers, clis, the Stack's modules per server, the module): every library under .deps/ or from the base OS"
