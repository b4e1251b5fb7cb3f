# Tarn: the two commands are `make run` and `make test`.
SHELL := /bin/bash
CARGO ?= cargo
DATA_DIR ?= tarn-data
VENV := .venv

# Under make, a test that needs a server (PostgreSQL, S3, s3s-fs) and finds none
# fails (tarn_ports::testkit::skip_without_server); a bare `cargo test` skips it
# with a printed message instead.
export TARN_TEST_REQUIRE_SERVERS := 1

# Crates that must stay free of drivers: the crate graph is the architecture.
PURE_CRATES := tarn-model tarn-ports tarn-domain
FORBIDDEN_DEPS := actix|diesel|aws-|sqlx|reqwest|hyper

.PHONY: run test lint fmt bench boundaries unit unit-suites ci build pytest s3s-fs ui ui-test chromium

## run: build the web UI, then start Tarn on the zero-setup default with quickstart
## credentials printed (UI at http://127.0.0.1:8000/)
run: ui
	@test -x "$${CARGO_TARGET_DIR:-target}/quickstart/tarn" || echo "make run: building Tarn \
	(profile quickstart; the first build takes about 9 minutes on 2 cores; later starts take seconds)..."
	$(CARGO) run --profile quickstart --no-default-features --bin tarn -- run --quickstart --data-dir $(DATA_DIR)

## ui: the web UI (frontend/, React + Vite) into frontend/dist, which the binary serves
## (compiled in by release builds, read from disk by debug builds)
frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	touch $@

ui: frontend/node_modules/.installed
	cd frontend && npm run build

## chromium: Debian's Chromium for the UI's end-to-end test, installed when missing
chromium:
	@command -v chromium >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }

## ui-test: the UI end to end in headless Chromium against the debug binary; screenshots
## of the main pages go to frontend/test-output/
ui-test: ui chromium
	$(CARGO) build --bin tarn
	cd frontend && TARN_BIN=$${CARGO_TARGET_DIR:-$(CURDIR)/target}/debug/tarn node e2e/run.mjs

build:
	$(CARGO) build --workspace --all-targets

## test: lint, then every test of the workspace
test: lint unit pytest ui-test

## unit: every Rust test, with a throwaway PostgreSQL (scripts/with-postgres.sh) and
## S3 server (scripts/with-s3.sh: moto, from the virtualenv); the black-box binary
## (tests/blackbox, every file in it) runs again on PostgreSQL, on PostgreSQL + S3
## (config/production.example.toml pointed at the test servers), and on SQLite
unit: $(VENV)/.installed s3s-fs
	scripts/with-postgres.sh scripts/with-s3.sh $(MAKE) --no-print-directory unit-suites

unit-suites:
	$(CARGO) test --workspace --all-targets --no-fail-fast
	TARN_TEST_DATABASE=postgres $(CARGO) test -p tarn --test blackbox --no-fail-fast
	TARN_TEST_CONFIG=config/production.example.toml TARN_TEST_DATABASE=postgres TARN_TEST_BLOCKSTORE=s3 \
	  $(CARGO) test -p tarn --test blackbox --no-fail-fast
	TARN_TEST_DATABASE=sqlite $(CARGO) test -p tarn --test blackbox --no-fail-fast
	$(CARGO) test --workspace --doc

## pytest: lakeFS's own Python clients (lakefs-sdk, lakefs, lakefs-spec) and the S3 tools against
## the debug binary: on SQLite + a local directory, then on PostgreSQL + S3
$(VENV)/.installed: tests/python/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -r tests/python/requirements.txt
	touch $@

pytest: $(VENV)/.installed
	$(CARGO) build --bin tarn
	TARN_BIN=$${CARGO_TARGET_DIR:-target}/debug/tarn $(VENV)/bin/python -m pytest tests/python -q
	TARN_BIN=$${CARGO_TARGET_DIR:-target}/debug/tarn TARN_TEST_CONFIG=config/production.example.toml \
	  TARN_TEST_DATABASE=postgres TARN_TEST_BLOCKSTORE=s3 \
	  scripts/with-postgres.sh scripts/with-s3.sh $(VENV)/bin/python -m pytest tests/python -q

## lint: formatting, clippy with warnings denied, and the crate boundaries
lint: boundaries
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy -p tarn --bin tarn --no-default-features -- -D warnings

## boundaries: fail if a domain crate depends on a driver (actix, diesel, an SDK), or if
## one HTTP driver (src/http/api, src/http/s3) imports the other
boundaries:
	@status=0; for crate in $(PURE_CRATES); do \
	  bad=$$($(CARGO) tree -p $$crate -e normal,build --prefix none --format '{p}' | grep -E '^($(FORBIDDEN_DEPS))' | sort -u); \
	  if [ -n "$$bad" ]; then echo "boundary violation: $$crate depends on:"; echo "$$bad"; status=1; fi; \
	done; \
	for pair in "src/http/s3:api" "src/http/api:s3" "src/http/shared:api" "src/http/shared:s3"; do \
	  dir=$${pair%%:*}; other=$${pair##*:}; \
	  bad=$$(grep -rnE "(crate::http|super|super::super)::($$other\b|\{[^}]*\b$$other\b)" $$dir --include=*.rs); \
	  if [ -n "$$bad" ]; then echo "boundary violation: $$dir imports the $$other driver (share through src/http/shared):"; echo "$$bad"; status=1; fi; \
	done; \
	if [ $$status -eq 0 ]; then echo "boundaries: $(PURE_CRATES) are free of $(FORBIDDEN_DEPS); the HTTP drivers import only src/http/shared, not each other"; fi; \
	exit $$status

fmt:
	$(CARGO) fmt --all

## .venv-bench: the bench's own virtualenv with the tools benches/dataset.rs compares against
BENCH_VENV := .venv-bench
$(BENCH_VENV)/.installed: benches/requirements.txt
	python3 -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install -r benches/requirements.txt
	touch $@

## s3s-fs: a plain S3 server that verifies SigV4 (adapters/s3/tests/signatures.rs, benchmarks)
s3s-fs:
	@command -v s3s-fs >/dev/null || $(CARGO) install s3s-fs@0.14.1 --features binary --locked

## bench: performance figures, as ratios against baselines measured in the same run
bench: s3s-fs $(VENV)/.installed $(BENCH_VENV)/.installed
	$(CARGO) bench -p tarn-domain --bench engine
	$(CARGO) bench -p tarn --bench actions
	$(CARGO) bench -p tarn --bench api_streaming
	$(CARGO) bench -p tarn --bench cli
	$(CARGO) bench -p tarn --bench dataset
	$(CARGO) bench -p tarn --bench gateway
	$(CARGO) bench -p tarn --bench gc
	$(CARGO) bench -p tarn --bench import
	$(CARGO) bench -p tarn --bench small_reads
	$(CARGO) bench -p tarn --bench soak
	$(CARGO) bench -p tarn --bench s3_backend
	PG_DURABLE=1 scripts/with-postgres.sh $(CARGO) bench -p tarn --bench metadata
	PG_DURABLE=1 scripts/with-postgres.sh $(CARGO) bench -p tarn --bench small_writes
	scripts/with-postgres.sh $(CARGO) bench -p tarn-domain --bench history

ci: test
