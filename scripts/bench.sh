#!/usr/bin/env bash
# `make bench`: the benchmarks of docs/benchmarks.md, from a fresh clone.
#
# Installs what it needs, pinned: wrk (the load generator) and nginx (the
# receiver) from Debian when apt-get can (else the built-in receiver is
# used, and said so; wrk is required), moto into .venv. Builds the release
# binaries, then runs target/release/hubhooks-bench, which starts and stops
# everything it uses. Bounded: about a minute after the build.
#
#   scripts/bench.sh [--arm64] [hubhooks-bench options, e.g. --rounds 9]
#
# --arm64 also cross-builds the Lambda binaries for arm64 with cargo-lambda
# (pinned, into .venv; slow: about 15 minutes on 2 cores) and reports their
# stripped sizes.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

WRK_VERSION="4.1.0-3+b2"
NGINX_VERSION="1.22.1-9*"
CARGO_LAMBDA_VERSION="1.9.2"

arm64=0
args=()
for a in "$@"; do
  case "$a" in
    --arm64) arm64=1 ;;
    *) args+=("$a") ;;
  esac
done

scripts/bootstrap.sh

missing=()
command -v wrk >/dev/null 2>&1 || missing+=("wrk=$WRK_VERSION")
[ -x /usr/sbin/nginx ] || missing+=("nginx=$NGINX_VERSION")
if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "bench: installing ${missing[*]} (apt-get)" >&2
    apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
      || echo "bench: could not install ${missing[*]}" >&2
  else
    echo "bench: ${missing[*]} missing and apt-get is not usable here" >&2
  fi
fi
if ! command -v wrk >/dev/null 2>&1; then
  echo "bench: wrk is required (Debian: apt-get install wrk=$WRK_VERSION)" >&2
  exit 1
fi
[ -x /usr/sbin/nginx ] || echo "bench: nginx absent: the built-in receiver stands in" >&2

cargo build --release --locked -p hubhooks-bench -p router -p sender -p api

extra=()
if [ "$arm64" = 1 ]; then
  if [ ! -x "$root/.venv/bin/cargo-lambda" ]; then
    echo "bench: installing cargo-lambda==$CARGO_LAMBDA_VERSION into .venv" >&2
    "$root/.venv/bin/pip" install --quiet --disable-pip-version-check "cargo-lambda==$CARGO_LAMBDA_VERSION"
  fi
  rustup target add aarch64-unknown-linux-gnu >/dev/null 2>&1 || true
  PATH="$root/.venv/bin:$PATH" cargo lambda build --release --arm64 -p router -p sender
  extra+=(--arm64 "$root/target/lambda")
fi

mkdir -p target/bench
exec target/release/hubhooks-bench --binaries target/release --json target/bench/figures.json \
  ${extra[@]+"${extra[@]}"} ${args[@]+"${args[@]}"}
