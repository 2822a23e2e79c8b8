#!/usr/bin/env bash
# Makes sure a RabbitMQ broker answers on 127.0.0.1:5672 (guest/guest), as
# the AMQP tests expect: starts the local one when it is absent.
set -euo pipefail
up() { (echo > /dev/tcp/127.0.0.1/5672) 2>/dev/null; }
if up; then exit 0; fi
if ! command -v rabbitmq-server >/dev/null 2>&1; then
  echo "rabbitmq: no broker on 127.0.0.1:5672 and rabbitmq-server is not installed" >&2
  echo "rabbitmq: install it (Debian: apt-get install rabbitmq-server) or start a broker there" >&2
  exit 1
fi
echo "rabbitmq: starting rabbitmq-server" >&2
rabbitmq-server -detached || true
# A broker whose node runs but whose app was stopped (rabbitmqctl stop_app).
rabbitmqctl start_app >/dev/null 2>&1 || true
for _ in $(seq 1 60); do
  if up; then exit 0; fi
  sleep 1
done
echo "rabbitmq: did not come up on 127.0.0.1:5672 within 60 s" >&2
exit 1
