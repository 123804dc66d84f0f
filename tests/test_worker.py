"""The local worker plays Lambda's SQS event source mapping: nothing is lost, failures stay queued."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from handlers.aws import warm
from handlers.aws.worker import run

from .support import DRIZZLE, INBOX, OUTPUT, fail_gets, output_keys, upload


@pytest.fixture
def queue(s3: Any) -> tuple[Any, str]:
    """The inbox's ObjectCreated notifications sent to an SQS queue, as trigger_mode = "queue" does."""
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="fits-events", Attributes={"VisibilityTimeout": "300"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket=INBOX,
        NotificationConfiguration={"QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]},
    )
    return sqs, url


def queue_counts(sqs: Any, url: str) -> tuple[int, int]:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


def test_every_upload_ends_in_metadata_or_an_error_record(s3: Any, queue: tuple[Any, str]) -> None:
    sqs, url = queue
    keys = [f"batch/{n:03d} obs+{n}.fits" for n in range(25)]
    for n, key in enumerate(keys):
        upload(s3, key, DRIZZLE if n % 5 else b"garbage")
    stats = run(sqs, url, once=True)
    assert stats.received == len(keys) + 1  # and the s3:TestEvent sent when the queue was wired
    assert stats.failed == 0 and stats.deleted == stats.received
    assert queue_counts(sqs, url) == (0, 0)
    listed = set(output_keys(s3))
    for n, key in enumerate(keys):
        expected = f"metadata/{key}.json" if n % 5 else f"errors/{key}.json"
        assert expected in listed


def test_a_failed_message_stays_queued_for_redelivery(s3: Any, queue: tuple[Any, str]) -> None:
    sqs, url = queue
    run(sqs, url, once=True)  # drain the test event
    warm.s3_client().meta.events.register_first("before-send.s3.GetObject", fail_gets(503, "SlowDown", "unlucky"))
    upload(s3, "ok.fits")
    upload(s3, "unlucky.fits")
    stats = run(sqs, url, once=True)
    assert (stats.received, stats.deleted, stats.failed) == (2, 1, 1)
    assert queue_counts(sqs, url) == (0, 1)  # invisible until its visibility timeout, not deleted
    assert s3.head_object(Bucket=OUTPUT, Key="metadata/ok.fits.json")
    assert output_keys(s3, prefix="thumbnails/unlucky.fits") == []
