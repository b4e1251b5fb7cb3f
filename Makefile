# Tarn: the two commands are `make run` and `make test`.
SHELL := /bin/bash
CARGO ?= cargo
DATA_DIR ?= tarn-data
VENV := .venv

# Crates that must stay free of drivers: the crate graph is the architecture.
PURE_CRATES := tarn-model tarn-ports tarn-domain
FORBIDDEN_DEPS := actix|diesel|aws-|sqlx|reqwest|hyper

.PHONY: run test lint fmt bench boundaries unit ci build pytest

## run: start Tarn on the zero-setup default with quickstart credentials printed
run:
	$(CARGO) run --release --bin tarn -- run --quickstart --data-dir $(DATA_DIR)

build:
	$(CARGO) build --workspace --all-targets

## test: lint, then every test of the workspace
test: lint unit pytest

unit:
	$(CARGO) test --workspace --all-targets --no-fail-fast
	$(CARGO) test --workspace --doc

## pytest: lakeFS's own Python clients (lakefs-sdk, lakefs, lakefs-spec) against the debug binary
$(VENV)/.installed: tests/python/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -r tests/python/requirements.txt
	touch $@

pytest: $(VENV)/.installed
	$(CARGO) build --bin tarn
	TARN_BIN=target/debug/tarn $(VENV)/bin/python -m pytest tests/python -q

## lint: formatting, clippy with warnings denied, and the crate boundaries
lint: boundaries
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## boundaries: fail if a domain crate depends on a driver (actix, diesel, an SDK)
boundaries:
	@status=0; for crate in $(PURE_CRATES); do \
	  bad=$$($(CARGO) tree -p $$crate -e normal,build --prefix none --format '{p}' | grep -E '^($(FORBIDDEN_DEPS))' | sort -u); \
	  if [ -n "$$bad" ]; then echo "boundary violation: $$crate depends on:"; echo "$$bad"; status=1; fi; \
	done; \
	if [ $$status -eq 0 ]; then echo "boundaries: $(PURE_CRATES) are free of $(FORBIDDEN_DEPS)"; fi; \
	exit $$status

fmt:
	$(CARGO) fmt --all

## bench: performance figures, as ratios against baselines measured in the same run
bench:
	command -v s3s-fs >/dev/null || $(CARGO) install s3s-fs@0.14.1 --features binary --locked
	$(CARGO) bench -p tarn-domain --bench engine
	$(CARGO) bench -p tarn --bench api_streaming
	$(CARGO) bench -p tarn --bench gateway

ci: test
