#!/usr/bin/env bash
# `make fuzz`: the property tests of every parser (tests/properties) with
# many more cases than `make test` runs, bounded in time.
#   FUZZ_CASES    cases per property (default 20000; `make test` runs 1000)
#   FUZZ_MINUTES  stop after this long (default 20)
# A failure prints its smallest input and is saved under
# tests/proptest-regressions/, where every later run tries it first.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
cases="${FUZZ_CASES:-20000}"
minutes="${FUZZ_MINUTES:-20}"
if ! command -v cargo-nextest >/dev/null 2>&1; then
  echo "installing cargo-nextest (pinned)" >&2
  cargo install --locked cargo-nextest@0.9.143
fi
cargo build -p hubhooks-tests --tests --quiet
properties="$(cargo nextest list -p hubhooks-tests --test properties 2>/dev/null | grep -c '::')"
echo "fuzz: $properties properties × $cases cases each, at most $minutes min" >&2
started=$(date +%s)
status=0
PROPTEST_CASES="$cases" timeout "${minutes}m" \
  cargo nextest run -p hubhooks-tests --test properties --no-fail-fast || status=$?
took=$(( $(date +%s) - started ))
if [ "$status" = 124 ]; then
  echo "fuzz: stopped at the $minutes-minute bound after ${took} s (lower FUZZ_CASES to finish)" >&2
  exit 0
fi
echo "fuzz: $properties properties × $cases cases in ${took} s, exit $status" >&2
exit "$status"
