#!/usr/bin/env bash
# Makes sure Debian's Chromium is at /usr/bin/chromium for the portal's
# browser tests (tests/portal/flows.py drives it with Playwright; browsers
# that download themselves cannot reach their hosts here).
# Pinned: the version below when the mirror still has it. Debian's security
# archive keeps only the newest build of a release, so when it has moved on
# the newest is installed and named, rather than failing every test run.
set -euo pipefail
want="156.0.8078.114-1~deb12u1"
have="$(dpkg-query -W -f='${Version}' chromium 2>/dev/null || true)"
if [ -x /usr/bin/chromium ] && [ -n "$have" ]; then
  [ "$have" = "$want" ] || echo "chromium: $have installed (pinned $want); the tests run on it" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium: /usr/bin/chromium is missing and this is not Debian: install Chromium there (or set CHROMIUM)" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
echo "chromium: installing Debian's chromium $want" >&2
$sudo apt-get update -qq >/dev/null 2>&1 || true
if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "chromium=$want" >/dev/null; then
  echo "chromium: $want is no longer in the archive; installing its successor" >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
/usr/bin/chromium --version >&2
