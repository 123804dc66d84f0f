"""A local stand-in for Lambda's SQS event source mapping.

It long-polls the queue, hands each batch to ``handlers.ingest.handler`` as an SQS event,
and deletes exactly the messages the handler did not report in ``batchItemFailures``;
the others become visible again and are redelivered (then dead-lettered by the queue's
redrive policy), as with the real mapping.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

logger = logging.getLogger(__name__)

BATCH_SIZE = 10


@dataclass
class LocalContext:
    """The parts of Lambda's context object that the handler and Powertools read."""

    timeout_s: float = 900.0
    function_name: str = "fits-ingest-local"
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:000000000000:function:fits-ingest-local"
    _started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_s - (time.monotonic() - self._started)) * 1000))


@dataclass
class WorkerStats:
    batches: int = 0
    received: int = 0
    deleted: int = 0
    failed: int = 0


def sqs_event(messages: Sequence[Mapping[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The event Lambda builds from received messages."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": m.get("MessageAttributes", {}),
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


def run(sqs: SQSClient, queue_url: str, once: bool = False, wait_s: int = 20) -> WorkerStats:
    """Poll until interrupted, or with ``once`` until the queue answers empty."""
    from handlers.aws.invocation import handler

    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    region = sqs.meta.region_name
    stats = WorkerStats()
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=BATCH_SIZE,
            WaitTimeSeconds=1 if once else wait_s,
            AttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            if once:
                return stats
            continue
        stats.batches += 1
        stats.received += len(messages)
        response = handler(sqs_event(messages, queue_arn, region), LocalContext())
        failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), BATCH_SIZE):
            chunk = done[start : start + BATCH_SIZE]
            sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
        stats.deleted += len(done)
        stats.failed += len(failed)
        if failed:
            logger.warning("%d message(s) failed and will be redelivered", len(failed))
