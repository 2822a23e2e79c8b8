# The two quick-start commands: `make demo` and `make test`.
.PHONY: demo test lint fmt build release bootstrap

bootstrap:
	scripts/bootstrap.sh

demo:
	scripts/demo.sh

test:
	scripts/test.sh

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

build:
	cargo build --workspace

# Release binaries for Lambda (arm64) need cargo-lambda: `sam build` uses it.
release:
	cargo build --release -p router -p sender
