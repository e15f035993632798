# trailsift — the two commands are `make dev` (run the main job) and `make test` (every test).
SHELL := /bin/bash
CARGO ?= cargo
export CARGO_TERM_COLOR ?= never
export WRANGLER_SEND_METRICS := false
export CLOUDFLARE_CF_FETCH_ENABLED := false

.PHONY: dev test setup lint test-rust check-wasm bench fuzz fuzz-smoke cli pkg test-js bench-js worker test-edge bench-edge bench-destinations bench-log www test-e2e bench-table

## Set up everything missing and run the main job.
dev: setup-dev cli www
	scripts/dev.sh

## Set up everything missing and run every test of the project.
test: setup lint test-rust fuzz-smoke check-wasm test-js test-edge test-reliability test-e2e
	@echo "make test: all suites passed"

## Install every tool the builds and tests need (skips what is present).
setup:
	scripts/setup.sh all

setup-dev:
	scripts/setup.sh worker npm

cli:
	$(CARGO) build --profile native --features cli

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) clippy --all-targets --features cli -- -D warnings
	$(CARGO) clippy --all-targets --all-features -- -D warnings
	$(CARGO) clippy --lib --target wasm32-unknown-unknown --features wasm -- -D warnings

test-rust:
	$(CARGO) test --features cli
	$(CARGO) test --features wasm --lib wasm::

check-wasm:
	$(CARGO) check --target wasm32-unknown-unknown --lib
	$(CARGO) check --target wasm32-unknown-unknown --lib --features wasm

## The Cloudflare Worker (build/index.js + build/index_bg.wasm).
worker:
	scripts/build-worker.sh

## HTTP tests of the Worker in wrangler dev (the live tail's also with the built CLI), and
## wrangler deploy --dry-run.
test-edge: worker cli
	$(CARGO) clippy --target wasm32-unknown-unknown --lib --features worker -- -D warnings
	$(CARGO) test --features worker --lib edge::
	node --test --test-concurrency=1 tests/edge/

bench-edge: worker
	node bench/edge-load.mjs
	node bench/edge-tail.mjs

## Streaming destinations: delivery throughput, CPU per batch, commit-to-receipt delay, and
## ingest with five active destinations beside none (receivers on loopback).
bench-destinations: worker
	scripts/setup.sh receivers
	node bench/destinations.mjs

## The verifiable log: ingest with and without it (a second Worker built with the
## bench-only feature bench-no-log), proof sizes, evidence export and `trailsift verify`.
bench-log: cli
	rm -rf target/bench-log && mkdir -p target/bench-log
	scripts/build-worker.sh --features bench-no-log && cp -r build target/bench-log/nolog
	scripts/build-worker.sh && cp -r build target/bench-log/log
	node bench/edge-log.mjs

bench: cli
	scripts/bench.sh

## Every fuzz target for FUZZ_SECONDS each (default 180); prints executions per target.
fuzz:
	scripts/fuzz.sh

## Every fuzz target briefly (15 s each) from fresh inputs, where the nightly toolchain is
## installed. test-rust also replays every checked-in seed natively on stable
## (tests/fuzz_corpus.rs), so known regressions fail make test even without nightly.
fuzz-smoke:
	@if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then \
		FUZZ_FRESH=1 scripts/fuzz.sh 15; \
	else \
		echo "fuzz-smoke: skipped: no nightly toolchain (rustup toolchain install nightly)"; \
	fi

## The npm package in pkg/ (wasm-pack + wasm-opt + entry points).
pkg:
	scripts/build-pkg.sh

## Build the npm package (and the CLI, whose answers the verifier tests compare) and run its
## Node, install and Vite+Chromium tests.
test-js: pkg cli
	node --test --test-concurrency=1 tests/js/*.test.mjs

## Issue 18's one table: the filter queries natively (1 and 2 threads), in the npm package and
## in the page, beside DuckDB, jq and the page's in-browser baselines, the goals marked
## (bench/table.mjs). BENCH_DATA=file; QUICK=1: 3 rounds, no jq (~10 min); ROUNDS=n.
BENCH_DATA ?= bench/data/filter-100mb.ndjson
bench-table: cli www
	node --expose-gc bench/table.mjs $(BENCH_DATA)

## Benchmarks of the npm package against JS baselines and the native CLI.
bench-js: pkg cli
	node --expose-gc bench/js/bench.mjs

## The web page: www/ with the package copied into www/pkg/; the Worker serves www/ as [assets].
www: pkg
	www/build.sh

## Browser tests of the page (Chromium through playwright-core), against the CLI's answers.
test-e2e: cli www
	node --test --test-concurrency=1 tests/e2e/

## Reliability (RELIABILITY.md) against the Worker in wrangler dev. make test runs the short
## forms (test-reliability, a few minutes); the long ones give RELIABILITY.md's figures.
.PHONY: test-reliability faults faults-short soak soak-short conformance
test-reliability: faults-short soak-short conformance

## SIGKILLs of wrangler dev mid-ingestion and mid-delivery, and failing receivers: nothing
## acknowledged is lost, checkpoints verify (scripts/faults.mjs; --short: one kill).
faults: worker cli
	node scripts/faults.mjs

faults-short: worker cli
	node scripts/faults.mjs --short

## Accounts ingesting, querying, exporting, tailing and delivering at once for 600 s:
## latency, memory over time, stored == acknowledged == delivered.
# 600 s of load, then 60 s idle, sent to the runtime workerd past wrangler dev's proxy
# (RELIABILITY.md, Soak). Both forms fail on any request error left after the client's
# resends (bench/soak.mjs), on lost or unequal events, and (600 s) on the Worker's own
# memory (wasm + V8 heap) growing; the runtime's RSS is reported beside it, and
# `node bench/workerd-baseline.mjs` measures the runtime with a Worker that does nothing.
soak: worker
	SOAK_IDLE_SECONDS=60 node bench/soak.mjs

soak-short: worker
	SOAK_SECONDS=60 node bench/soak.mjs

## schemathesis 4 against src/edge/openapi.json and the running Worker (scripts/conformance.mjs).
conformance: worker
	scripts/setup.sh python
	node scripts/conformance.mjs
