# redis-account: `make run` serves the module on 127.0.0.1:6379, `make test` checks everything.
SHELL := /bin/bash
ROOT := $(CURDIR)
DEPS := $(ROOT)/.deps
STACK := $(DEPS)/stack
export LD_LIBRARY_PATH := $(DEPS)/ssl/usr/lib/x86_64-linux-gnu$(if $(LD_LIBRARY_PATH),:$(LD_LIBRARY_PATH))
MODULE := $(ROOT)/target/release/libredis_account.so
CARGO ?= cargo

.PHONY: deps build run test unit-leaks mypy pytest pytest-redispy bench-flows bench soak cluster cluster-stop clean

deps:
	@bash scripts/deps.sh
	@bash scripts/deps-pydantic.sh

build: deps
	$(CARGO) build --release

run: build
	@mkdir -p $(DEPS)/run
	@echo "Redis Stack 7.4.1 + RedisJSON + account on 127.0.0.1:6379 (Ctrl-C stops it)"
	exec $(STACK)/bin/redis-server redis.conf

# Unit tests (pure Rust, no Redis), then integration and transcript tests against real
# servers (each on Redis Stack 7.4.1 and on Redis 7.0.15), then the Python client's tests.
test: build
	ACCOUNT_SO=$(MODULE) $(CARGO) test --profile ci
	$(MAKE) --no-print-directory unit-leaks
	@if [ -d clients/python ]; then $(MAKE) --no-print-directory mypy pytest; fi

# The unit tests (pure code) under valgrind's leak checker: any definite leak fails.
unit-leaks:
	@bin=$$($(CARGO) test --profile ci --lib --no-run 2>&1 | grep -o 'target/ci/deps/redis_account-[0-9a-f]*' | head -n1); \
	FUZZ_CASES=2000 valgrind -q --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite --error-exitcode=1 $$bin -q --test-threads=1 && \
	echo "unit tests under valgrind: no leaks"

# The Python client's types: mypy --strict over the package and a typed caller (pyproject.toml).
mypy: deps
	cd clients/python && $(DEPS)/venv/bin/python -m mypy

# The Python client (clients/python) against real servers, standalone and a 3-primary cluster.
pytest: build
	cd clients/python && PYTHONPATH=src ACCOUNT_SO=$(MODULE) $(DEPS)/venv/bin/python -m pytest -q

# The same client tests with the lowest and the newest redis-py supported (5.0.1 and 8.1.0,
# in .deps/venv-redis5 and .deps/venv-redis8; make pytest runs them with .deps/venv's 6.x).
pytest-redispy: build
	cd clients/python && for v in 5 8; do echo "redis-py $$v:"; \
	  PYTHONPATH=src ACCOUNT_SO=$(MODULE) $(DEPS)/venv-redis$$v/bin/python -m pytest -q -p no:cacheprovider || exit 1; done

bench: build
	$(CARGO) build --release --examples
	python3 scripts/bench.py
	$(MAKE) --no-print-directory bench-flows

# The original game's flows from redis.asyncio, 50 tasks: the original's way against this client.
bench-flows: build
	ACCOUNT_SO=$(MODULE) $(DEPS)/venv/bin/python scripts/bench_flows.py

# The long variants of the robustness tests, bounded in count (make test runs the short ones).
soak: build
	FUZZ_CASES=50000 LEAK_ROUNDS=30000 ACCOUNT_SO=$(MODULE) $(CARGO) test --profile ci --lib --test robustness -- --nocapture

# A three-primary Redis Cluster on 127.0.0.1:7001-7003 with RedisJSON and the module (left running;
# `make cluster-stop` stops it).
cluster: build
	bash scripts/cluster.sh

cluster-stop:
	bash scripts/cluster.sh stop

clean:
	$(CARGO) clean
