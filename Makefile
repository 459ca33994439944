# redis-account: `make run` serves the module on 127.0.0.1:6379, `make test` checks everything.
SHELL := /bin/bash
ROOT := $(CURDIR)
DEPS := $(ROOT)/.deps
STACK := $(DEPS)/stack
export LD_LIBRARY_PATH := $(DEPS)/ssl/usr/lib/x86_64-linux-gnu$(if $(LD_LIBRARY_PATH),:$(LD_LIBRARY_PATH))
MODULE := $(ROOT)/target/release/libredis_account.so
# make build's shipped form of the module: stripped, its debug info split off beside it.
DIST := $(ROOT)/target/dist
CARGO ?= cargo
# make install: where to (PREFIX/lib/redis-account, PREFIX/share/redis-account); DESTDIR for staging.
PREFIX ?= /usr/local
DESTDIR ?=
# make run / cli / reset: a server of tests/servers.tsv (redis-7.0, stack-7.4, redis-8.2,
# valkey-8.1, valkey-9.1) and its port.
SERVER ?=
PORT ?=

.PHONY: deps deps-serve build install run cli reset test unit-leaks mypy pytest pytest-redispy bench-flows bench soak cluster cluster-stop clean

# What building and serving need (make build, run, install): libclang-dev and the default server,
# Redis Stack 7.4.1 with RedisJSON (and its libssl1.1). Rust (cargo) must be installed.
deps-serve:
	@bash scripts/deps.sh serve

# Everything make test needs: the above, the other four servers, valgrind, the test venvs, and
# Python >= 3.12 with pydantic (schema generation tests).
deps:
	@bash scripts/deps.sh all
	@bash scripts/deps-pydantic.sh
	@bash scripts/deps-postgres.sh

# The module only, release: target/release/libredis_account.so (with debug info, what the tests
# load) and target/dist/libredis_account.so (stripped, the one to ship) with its debug info in
# target/dist/libredis_account.so.debug (linked by .gnu_debuglink).
build: deps-serve
	$(CARGO) build --release
	@mkdir -p $(DIST)
	@objcopy --only-keep-debug $(MODULE) $(DIST)/libredis_account.so.debug
	@objcopy --strip-unneeded --add-gnu-debuglink=$(DIST)/libredis_account.so.debug $(MODULE) $(DIST)/libredis_account.so.tmp
	@mv $(DIST)/libredis_account.so.tmp $(DIST)/libredis_account.so
	@echo "module: target/dist/libredis_account.so ($$(du -k $(DIST)/libredis_account.so | cut -f1) KiB, stripped); debug info: target/dist/libredis_account.so.debug"

# The stripped module, its debug info, the shipped schemas and a sample config:
#   PREFIX/lib/redis-account/libredis_account.so(.debug)
#   PREFIX/share/redis-account/{account,lobby}.schema.json, redis-account.conf
install: build
	@PREFIX="$(PREFIX)" DESTDIR="$(DESTDIR)" bash scripts/install.sh

# One server (default Redis Stack 7.4.1) with RedisJSON and the module, in the foreground, on
# 127.0.0.1:PORT (default 6379); exits with a message if the port is taken. Data and a copy of
# redis.conf in .deps/run/SERVER-PORT/.
run: build
	@SERVER="$(SERVER)" PORT="$(PORT)" bash scripts/run.sh run

# The matching cli on PORT (default 6379), with the LD_LIBRARY_PATH it needs.
cli:
	@SERVER="$(SERVER)" PORT="$(PORT)" bash scripts/run.sh cli

# Deletes the data of `make run` (all of it, or SERVER's / PORT's), never while our server runs there.
reset:
	@SERVER="$(SERVER)" PORT="$(PORT)" bash scripts/run.sh reset

# Unit tests (pure Rust, no Redis), then integration and transcript tests against real
# servers (each on every server of tests/servers.tsv), the unit tests under valgrind, the Python
# client's types (mypy) and tests; the last line is `totals: N passed, M failed` across all of them.
test: deps build
	@CARGO="$(CARGO)" MAKE="$(MAKE)" bash scripts/test.sh

# The unit tests (pure code) under valgrind's leak checker: any definite leak fails.
unit-leaks:
	@bin=$$($(CARGO) test --profile ci --lib --no-run 2>&1 | grep -o 'target/ci/deps/redis_account-[0-9a-f]*' | head -n1); \
	FUZZ_CASES=2000 valgrind -q --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite --error-exitcode=1 $$bin -q --test-threads=1 && \
	echo "unit tests under valgrind: no leaks"

# The Python client's types: mypy --strict over the package and a typed caller (pyproject.toml).
mypy: deps
	cd clients/python && $(DEPS)/venv/bin/python -m mypy

# The Python client (clients/python) against every server, standalone and a 3-primary cluster.
pytest: deps build
	cd clients/python && PYTHONPATH=src ACCOUNT_SO=$(MODULE) $(DEPS)/venv/bin/python -m pytest -q

# The same client tests with the lowest and the newest redis-py supported (5.0.1 and 8.1.0,
# in .deps/venv-redis5 and .deps/venv-redis8; make pytest runs them with .deps/venv's 6.x).
pytest-redispy: deps build
	cd clients/python && for v in 5 8; do echo "redis-py $$v:"; \
	  PYTHONPATH=src ACCOUNT_SO=$(MODULE) $(DEPS)/venv-redis$$v/bin/python -m pytest -q -p no:cacheprovider || exit 1; done

# A quick run by default (a few minutes on 2 cores: pipeline 16, the server-CPU and per-command
# goal tables); BENCH_FULL=1 make bench is the long one (pipelines 1 and 16, three servers).
bench: deps build
	$(CARGO) build --release --examples
	python3 scripts/bench.py
	$(MAKE) --no-print-directory bench-flows

# The original game's flows from redis.asyncio, 50 tasks: the original's way against this client
# with and without its automatic pipelining: flows/s, latency and the server's CPU per flow.
bench-flows: deps build
	ACCOUNT_SO=$(MODULE) $(DEPS)/venv/bin/python scripts/bench_flows.py

# The long variants of the robustness tests, bounded in count (make test runs the short ones).
soak: deps build
	FUZZ_CASES=50000 LEAK_ROUNDS=30000 ACCOUNT_SO=$(MODULE) $(CARGO) test --profile ci --lib --test robustness -- --nocapture

# A three-primary cluster (SERVER, default stack-7.4) on 127.0.0.1:7001-7003 with RedisJSON and
# the module (left running; `make cluster-stop` stops the nodes it started).
cluster: deps build
	SERVER="$(SERVER)" bash scripts/cluster.sh

cluster-stop:
	bash scripts/cluster.sh stop

clean:
	$(CARGO) clean
