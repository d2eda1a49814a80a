# gatecheck — common tasks. `make help` lists them.
SHELL := /bin/bash
CARGO ?= cargo
K6_SUMMARY_PATH ?= artifacts/perf/k6-summary.json
POLICY ?= gates/release.toml

.PHONY: help build test lint bench bench-load demo verify-example release-gates

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

build: ## build the release binary (target/release/gatecheck)
	$(CARGO) build --release

test: ## install what the tests need, then fmt check, clippy and the whole test suite
	bash scripts/ensure-test-deps.sh
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) test --bench verify
	$(CARGO) test --lib --bins --tests

lint: ## formatting and clippy only
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

bench: ## verify benchmark (timings printed as ratios to their goal)
	$(CARGO) bench --bench verify

bench-load: ## load-runner benchmark against oha and k6, side by side (about 5 minutes; installs oha/k6 if missing)
	bash benches/load.sh

demo: ## the whole pipeline on this machine: embedded API, native smoke load, lag from its /metrics, verdict
	$(CARGO) run --release --quiet -- demo

verify-example: build ## judge real k6 output shipped in fixtures/: one release that passes, one that must not ship
	@echo "== a passing release candidate (k6 1.1.0 --summary-export, lag figures from env) =="
	SCHEDULER_LAG_P95_SECONDS=12 SCHEDULER_LAG_MAX_SECONDS=45 QUEUE_LAG_P95_SECONDS=3 QUEUE_LAG_P99_SECONDS=8 \
	  ./target/release/gatecheck verify --policy $(POLICY) --summary fixtures/k6/1.1.0/pass/summary-export.json
	@echo
	@echo "== a release candidate with 5% write errors (k6 2.2.0 handleSummary): exit 1 expected =="
	SCHEDULER_LAG_P95_SECONDS=12 SCHEDULER_LAG_MAX_SECONDS=45 QUEUE_LAG_P95_SECONDS=3 QUEUE_LAG_P99_SECONDS=8 \
	  ./target/release/gatecheck verify --policy $(POLICY) --summary fixtures/k6/2.2.0/fail-errors/handle-summary.json; \
	  code=$$?; echo "exit code $$code"; test $$code -eq 1

release-gates: build ## the release-gates job: judge $(K6_SUMMARY_PATH) against $(POLICY)
	./target/release/gatecheck verify --policy $(POLICY) --summary $(K6_SUMMARY_PATH)
