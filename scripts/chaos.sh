#!/usr/bin/env bash
# `make chaos`: ~10,000 webhooks through the local stack under faults
# (tests/chaos; docs/architecture.md, "Testing and measuring it"). Not part of `make test`: about 7 minutes.
#   CHAOS_MINUTES  the bound for the whole run (default 20)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
scripts/bootstrap.sh
scripts/rabbitmq.sh
cargo build -q -p hubhooks-tests --bin hubhooks-chaos
exec target/debug/hubhooks-chaos "$@"
