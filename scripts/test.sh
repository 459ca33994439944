#!/usr/bin/env bash
# make test: the library check (scripts/check-libs.sh), the Rust suites (unit tests; integration
# and transcript tests on every server of tests/servers.tsv), make run / make install on a stock
# PATH (scripts/check-serve.sh), the unit tests under valgrind's leak checker, then the Python
# client's types (mypy) and tests. Every suite runs even when an earlier one failed; the last line is the totals across
# all of them, `totals: N passed, M failed`, and the exit status is non-zero if anything failed.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
: "${CARGO:=cargo}" "${MAKE:=make}"
# No redis-cli or server by name: every test runs the binaries of tests/servers.tsv with its lib
# column (tests/common/mod.rs, clients/python/tests/conftest.py), and the library check below
# fails when one of them would load a library from outside .deps/ and the base OS.
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
passed=0 failed=0 status=0
start=$(date +%s)

# Adds a suite's counts; a suite that failed without a failed test (a build error, a crash) counts
# as one failure.
add() { # add RC PASSED FAILED NAME
  passed=$((passed + $2)); failed=$((failed + $3))
  if [ "$1" != 0 ]; then
    status=1
    [ "$3" -gt 0 ] || { failed=$((failed + 1)); echo "[test] $4 failed without a failed test: counted as 1 failure" >&2; }
  fi
}

# The tree is formatted (cargo fmt --check): one check.
if $CARGO fmt --check >/dev/null 2>&1; then add 0 1 0 fmt; else echo "[test] cargo fmt --check: the tree is not formatted (run cargo fmt)" >&2; add 1 0 1 fmt; fi

# The libraries of every server, cli and Stack module of tests/servers.tsv: one check.
if bash scripts/check-libs.sh; then add 0 1 0 check-libs; else add 1 0 1 check-libs; fi

# Rust: every "test result: ok. N passed; M failed" line.
ACCOUNT_SO="$root/target/release/libredis_account.so" $CARGO test --profile ci --no-fail-fast 2>&1 | tee "$logs/cargo"
rc=${PIPESTATUS[0]}
p=$(grep -oE '^test result: .* ([0-9]+) passed' "$logs/cargo" | grep -oE '[0-9]+ passed' | awk '{s+=$1} END {print s+0}')
f=$(grep -oE '^test result: .*; ([0-9]+) failed' "$logs/cargo" | grep -oE '[0-9]+ failed' | awk '{s+=$1} END {print s+0}')
add "$rc" "$p" "$f" "cargo test"

# The serving path on a stock machine: make run with only the OS's Python, make install and a
# server from the installed config: two checks.
bash scripts/check-serve.sh; f=$?
add "$f" $((2 - f)) "$f" check-serve

# The unit tests under valgrind: one check.
if $MAKE --no-print-directory unit-leaks; then add 0 1 0 unit-leaks; else add 1 0 1 unit-leaks; fi

# Python: the client's types (mypy, one check), then pytest's summary line ("68 passed, 2 failed,
# 1 error in 20.1s").
if [ -d clients/python ]; then
  if $MAKE --no-print-directory mypy; then add 0 1 0 mypy; else add 1 0 1 mypy; fi
  $MAKE --no-print-directory pytest 2>&1 | tee "$logs/pytest"
  rc=${PIPESTATUS[0]}
  summary=$(grep -E '[0-9]+ (passed|failed|error)' "$logs/pytest" | tail -n1)
  p=$(grep -oE '[0-9]+ passed' <<<"$summary" | awk '{s+=$1} END {print s+0}')
  f=$(grep -oE '[0-9]+ (failed|errors?)' <<<"$summary" | awk '{s+=$1} END {print s+0}')
  add "$rc" "$p" "$f" pytest
fi

echo "make test took $(( $(date +%s) - start )) s on $(nproc) cores"
echo "totals: $passed passed, $failed failed"
exit $status
