#!/usr/bin/env bash
# `make test`: every test. Installs the pinned local stack (moto, cfn-lint)
# first; starts RabbitMQ when it is absent (the AMQP tests need it) and
# installs Debian's Chromium when it is (the portal's browser tests).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
scripts/bootstrap.sh
scripts/rabbitmq.sh
scripts/chromium.sh
if ! command -v cargo-nextest >/dev/null 2>&1; then
  echo "installing cargo-nextest (pinned)" >&2
  cargo install --locked cargo-nextest@0.9.143
fi
cargo fmt --all --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
cargo nextest run --workspace --no-fail-fast "$@"
