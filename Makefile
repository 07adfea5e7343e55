# TAO20: `make test` runs every test (installing what is missing first), `make demo` the main job.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
export CARGO_TERM_COLOR ?= never

FORGE := node_modules/.bin/forge

.PHONY: help deps test test-forge test-rust lint fmt bench demo build clean

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 14

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

deps: node_modules/.installed ## Install what the build and tests need (npm packages; idempotent).
	@bash tools/deps.sh

build: deps ## Build the contracts and the keeper.
	$(FORGE) build
	cargo build --workspace

test: deps ## Run every test (formatting, lints, forge, Rust); ends with `N passed, N failed`.
	@bash tools/test-all.sh

test-forge: deps ## Only the forge suite.
	$(FORGE) test

test-rust: ## Only the Rust suite.
	cargo test --workspace

lint: deps ## Formatting and lint checks only.
	$(FORGE) fmt --check
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

fmt: deps ## Format Solidity and Rust in place.
	$(FORGE) fmt
	cargo fmt --all

demo: deps ## The main job: the whole system on a devnet (five keepers, miners, bidders, faults); writes target/demo/report.{json,html}.
	@bash tools/demo.sh

bench: deps ## Benchmarks (criterion, forge gas snapshots); not part of `make test`.
	@bash tools/bench.sh

clean: ## Remove build outputs.
	rm -rf out cache target
