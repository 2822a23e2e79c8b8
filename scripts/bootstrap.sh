#!/usr/bin/env bash
# Installs what the local stack and the checks need, pinned, into .venv, and
# the SAM CLI (for `sam validate --lint`) into .venv/sam: it pins a boto3 of
# its own that moto's does not match.
# Idempotent: does nothing when both match their requirements files.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

# install VENV REQUIREMENTS PROGRAM: a venv holding exactly REQUIREMENTS.
install() {
  local venv="$1" req="$2" program="$3"
  local stamp="$venv/.requirements.sha256"
  local want
  want="$(sha256sum "$req" | cut -d' ' -f1)"
  if [ -x "$venv/bin/$program" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  echo "bootstrap: installing $(grep -v '^#' "$req" | xargs) into ${venv#"$root"/}" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
  echo "$want" > "$stamp"
}

install "$root/.venv" "$root/scripts/requirements.txt" moto_server
install "$root/.venv/sam" "$root/scripts/requirements-sam.txt" sam
