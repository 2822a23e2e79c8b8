"""The local stack's moto server: moto's own server with one correction.

moto's SQS can hand one message to two concurrent ReceiveMessage calls: its
scan checks that a message is visible, then marks it received, with no lock
between, and a new message wakes every long-polling receiver at once. SQS
hides a received message for its visibility timeout; the local runner polls
each queue with two pollers, so tests that count deliveries saw duplicates
the deployed system would not make. Here each scan holds a lock; waiting
does not. tests/it/local_stack.rs holds this to account.

Usage: .venv/bin/python scripts/moto_server.py -H 127.0.0.1 -p PORT
(the arguments of moto_server).
"""

import sys
import threading
import time

from moto.core.utils import unix_time
from moto.server import main
from moto.sqs.models import SQSBackend

_scan = threading.Lock()
_receive = SQSBackend.receive_message


def receive_message(
    self,
    queue_name,
    count,
    wait_seconds_timeout,
    visibility_timeout,
    message_attribute_names=None,
):
    deadline = unix_time() + (wait_seconds_timeout or 0)
    while True:
        # moto's scan without its wait: it marks what it returns received.
        with _scan:
            got = _receive(
                self, queue_name, count, 0, visibility_timeout, message_attribute_names
            )
        left = deadline - unix_time()
        if got or left <= 0:
            return got
        started = time.monotonic()
        self.get_queue(queue_name).wait_for_messages(min(left, 1))
        # Visible messages none may take (a FIFO group in flight) end the
        # wait at once: pause rather than spin on the lock.
        if time.monotonic() - started < 0.001:
            time.sleep(0.02)


SQSBackend.receive_message = receive_message

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
