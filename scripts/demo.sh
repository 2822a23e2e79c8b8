#!/usr/bin/env bash
# `make demo`: the local stack (moto), the pipeline, a receiver; prints every webhook.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
scripts/bootstrap.sh
cargo build --quiet -p hubhooks-cli
# shellcheck source=scripts/moto.sh
. scripts/moto.sh
echo "moto server at $AWS_ENDPOINT_URL"
target/debug/hubhooks demo
