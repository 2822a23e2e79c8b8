# The two quick-start commands: `make demo` and `make test`.
.PHONY: demo test bench fuzz chaos lint fmt build release bootstrap

bootstrap:
	scripts/bootstrap.sh

demo:
	scripts/demo.sh

test:
	scripts/test.sh

# Throughput against the load generator's limit, start time, memory, sizes
# (docs/benchmarks.md). `scripts/bench.sh --arm64` adds the arm64 sizes.
bench:
	scripts/bench.sh

# The property tests of every parser with many more cases, bounded in time
# (FUZZ_CASES, FUZZ_MINUTES; tests/properties).
fuzz:
	scripts/fuzz.sh

# ~10,000 webhooks through the local stack under faults, the DLQ replayed,
# written / delivered / via replay / duplicates / lost (docs/chaos.md).
chaos:
	scripts/chaos.sh

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

build:
	cargo build --workspace

# Release binaries for Lambda (arm64) need cargo-lambda: `sam build` uses it.
release:
	cargo build --release -p router -p sender
