"""The local stack's moto server: moto's own server, made atomic where AWS is.

moto serves each request on its own thread and takes no lock, so concurrent
requests interleave where the services are atomic:
- SQS can hand one message to two ReceiveMessage calls: its scan checks that
  a message is visible, then marks it received, and a new message wakes
  every long-polling receiver at once. SQS hides a received message for its
  visibility timeout. The local runner polls each queue with two pollers,
  so tests that count deliveries saw duplicates the deployed system would
  not make. Here each scan holds a lock; waiting does not.
- DynamoDB applies a write as read, change, write: two concurrent `ADD`s
  can both return the same count (the senders' per-second counters), and
  two conditional puts can both succeed. DynamoDB applies every write to
  an item atomically. Here each item read and write request takes one
  lock, from reading the request to building the answer.
tests/it/local_stack.rs holds both to account.

And one cost AWS does not have: moto checks each received message's
retention by computing every attribute of its queue, three of them a scan
of every message, so a receive cost O(messages) thirty times over (~0.4 s
at 1,000 messages, ~4 s at 10,000). Here the check reads the one attribute,
and SQS reads the clock with time.time() (moto's datetime arithmetic was
most of what every other scan of a queue cost).

And one thing the local stack leaves to its runner: moto's Lambda, given an
event source mapping (a stack created through CloudFormation has eight),
invokes the function itself on every message sent and every stream record
written; without Docker each invocation fails, and meanwhile the message
was received (its receive count spent) and the stream's records dropped
once any invocation "succeeded". The local runner plays the mappings, as
it does for a provisioned stack, so here a mapping is recorded (listed,
described, enabled or disabled) but never attached to its queue or table.

Faults, for the tests of our own outages: when HUBHOOKS_MOTO_FAULTS names a
file, each DynamoDB item request first reads it, a JSON list of
{"operation": "GetItem", "table": "t-secrets", "until": <epoch seconds>},
and answers 500 InternalServerError while a matching fault lasts.

Usage: .venv/bin/python scripts/moto_server.py -H 127.0.0.1 -p PORT
(the arguments of moto_server).
"""

import json
import os
import sys
import threading
import time

from moto.core.exceptions import JsonRESTError
from moto.core.utils import unix_time
from moto.dynamodb.responses import DynamoHandler
from moto.awslambda.models import LambdaBackend
from moto.dynamodb.models import dynamodb_backends
from moto.server import main
from moto.sqs.models import sqs_backends
from moto.sqs import models as sqs_models
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


def is_message_valid_based_on_retention_period(self, queue_name, message):
    retention = int(self.get_queue(queue_name).message_retention_period)
    return retention + message.sent_timestamp / 1000 > unix_time()


SQSBackend.is_message_valid_based_on_retention_period = (
    is_message_valid_based_on_retention_period
)
sqs_models.unix_time = time.time
sqs_models.unix_time_millis = lambda: time.time() * 1000

# Whole requests, not the backend's calls: UpdateItem reads the old item
# before it updates and builds its answer after, and both belong to it.
_items = threading.Lock()


class _InjectedOutage(JsonRESTError):
    code = 500

    def __init__(self, operation, table):
        super().__init__(
            "InternalServerError",
            f"injected outage of {operation} on {table} (HUBHOOKS_MOTO_FAULTS)",
        )


def _faulted(operation, body):
    path = os.environ.get("HUBHOOKS_MOTO_FAULTS")
    if not path:
        return
    try:
        with open(path) as f:
            faults = json.load(f)
    except (OSError, ValueError):
        return
    table = body.get("TableName") if isinstance(body, dict) else None
    now = time.time()
    for fault in faults:
        if (
            fault.get("operation") == operation
            and fault.get("table") == table
            and now < float(fault.get("until", 0))
        ):
            raise _InjectedOutage(operation, table)


def _pascal(name):
    return "".join(part.capitalize() for part in name.split("_"))


def _atomic(operation):
    action = _pascal(operation.__name__)

    def locked(self, *args, **kwargs):
        _faulted(action, self.body)
        with _items:
            return operation(self, *args, **kwargs)

    return locked


for _name in (
    "put_item",
    "update_item",
    "delete_item",
    "batch_write_item",
    "transact_write_items",
    "execute_statement",
    "get_item",
    "batch_get_item",
    "transact_get_items",
    "query",
    "scan",
):
    setattr(DynamoHandler, _name, _atomic(getattr(DynamoHandler, _name)))


# Mappings are recorded, never attached: the local runner plays them.
_create_mapping = LambdaBackend.create_event_source_mapping


def create_event_source_mapping(self, spec):
    mapping = _create_mapping(self, spec)
    for queue in sqs_backends[self.account_id][self.region_name].queues.values():
        queue.lambda_event_source_mappings.pop(mapping.function_arn, None)
    for table in dynamodb_backends[self.account_id][self.region_name].tables.values():
        table.lambda_event_source_mappings.pop(mapping.function_arn, None)
    return mapping


LambdaBackend.create_event_source_mapping = create_event_source_mapping

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
