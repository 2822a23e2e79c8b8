#!/usr/bin/env bash
# Source this: starts a moto server on a free port and exports
# AWS_ENDPOINT_URL; the server stops when the sourcing shell exits.
# scripts/moto_server.py is moto_server with its SQS receives and DynamoDB
# item reads and writes made atomic, as the services are.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
port="$("$root/.venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$root/.venv/bin/python" "$root/scripts/moto_server.py" -H 127.0.0.1 -p "$port" > "${TMPDIR:-/tmp}/hubhooks-moto-$port.log" 2>&1 &
moto_pid=$!
trap 'kill $moto_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  if "$root/.venv/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/')" 2>/dev/null; then
    break
  fi
  sleep 0.1
done
export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
