"""One Lambda invocation: events in, results out.

Every event shape becomes ``ObjectRef`` values (``events``); each is run through the
pipeline.  A problem of an input is answered by an ``errors/`` record and counts as
done; a fault of the store is retried by AWS: raised for direct, SNS and EventBridge
invocations, reported per message for SQS (``batchItemFailures``) and per task for
S3 Batch Operations (``TemporaryFailure``).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import asdict
from functools import partial
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.data_classes import S3BatchOperationResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from handlers.aws import warm
from handlers.aws.batch import ConcurrentBatchProcessor
from handlers.aws.events import (
    is_batch_operations_event,
    is_sqs_event,
    refs_from_batch_operations,
    refs_from_notification,
    refs_from_sqs_body,
    refs_from_uris,
)
from handlers.aws.observability import add_metrics, logger, metrics, tracer
from handlers.deadline import Deadline
from handlers.errors import IngestError, RecursiveTriggerError, TransientError
from handlers.object_ref import ObjectRef
from handlers.pipeline import Outcome, process, remove
from handlers.storage.batched_deletes import BatchedDeletes
from handlers.storage.outputs import BucketOutput
from handlers.storage.s3_source import S3Source
from handlers.threads.pools import map_concurrently

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> Mapping[str, Any]:
    """The Lambda function: any event shape of the contract; see the module's docstring."""
    metrics.add_metric(name="Invocations", unit=MetricUnit.Count, value=1)
    settings = warm.settings()
    deadline = Deadline.from_context(context, settings.limits.time_reserve_s)
    warm.s3_client()  # built once, before any worker thread needs it (building clients is not thread-safe)
    deletes = BatchedDeletes()  # the objects of this invocation delete their error records together
    if is_sqs_event(event):
        processor = ConcurrentBatchProcessor(settings.batch_concurrency, deletes)
        record_handler = partial(_sqs_record, deadline=deadline, deletes=deletes)
        return process_partial_response(event, record_handler, processor, context)
    if is_batch_operations_event(event):
        return _batch_operations(event, deadline)
    refs = refs_from_uris(event) if "uris" in event else refs_from_notification(event)
    work = deletes.participant(partial(_ingest_or_fault, deadline=deadline, deletes=deletes))
    results = map_concurrently(work, refs, settings.batch_concurrency)
    faults = [result for result in results if isinstance(result, TransientError)]
    if faults:
        raise faults[0]
    return {"outcomes": [{"key": o.key, "status": o.status} for o in results if isinstance(o, Outcome)]}


def _ingest_or_fault(ref: ObjectRef, deadline: Deadline, deletes: BatchedDeletes) -> Outcome | TransientError:
    """A transient fault is returned rather than raised, so that the other objects go on."""
    try:
        return ingest_object(ref, deadline, deletes)
    except TransientError as exc:
        return exc


def ingest_object(ref: ObjectRef, deadline: Deadline, deletes: BatchedDeletes | None = None) -> Outcome:
    """Process (or, for a deletion, clean up after) one object; one log line and its metrics.

    ``deletes``: the deletes of the invocation's objects that run concurrently.
    """
    config = warm.settings()
    output_bucket = config.require_output_bucket()
    if ref.bucket == output_bucket:
        raise RecursiveTriggerError(
            f"refusing {ref.uri}: it is in the output bucket {output_bucket!r}, "
            "and writing there would trigger this function again"
        )
    source = S3Source(warm.s3_client(), ref, config.reads)
    # An object read in parts takes long: the batch does not wait for it.  A URI says no size: the
    # source's first GET tells, where other objects run beside it (a removal or a lone object need not ask).
    size = source.size_if_known() if deletes is not None and not ref.removed else ref.size
    read_in_one_get = size is not None and config.reads.fetches_whole(size)
    batched = deletes if deletes is not None and read_in_one_get else None
    out = BucketOutput(warm.s3_client(), output_bucket, batched)
    try:
        with deletes.deleting_alone() if deletes is not None and batched is None else nullcontext():
            outcome = remove(source, out) if ref.removed else process(source, out, config, deadline)
    except IngestError as exc:
        add_metrics(("FailedObjects", MetricUnit.Count, 1))
        logger.warning("object failed", extra={
            "bucket": ref.bucket, "key": ref.key, "status": "failed",
            "error": {"class": type(exc).__name__, "message": str(exc)},
            "bytes_read": source.stats.bytes_read, "requests": source.stats.requests,
        })
        raise
    logger.info(f"object {outcome.status}", extra={"bucket": ref.bucket, **asdict(outcome)})
    add_metrics(
        (f"Objects{outcome.status.capitalize()}", MetricUnit.Count, 1),
        ("BytesRead", MetricUnit.Bytes, outcome.bytes_read),
        ("SourceRequests", MetricUnit.Count, outcome.requests),
        ("ProcessingTime", MetricUnit.Milliseconds, outcome.duration_ms),
    )
    return outcome


def _sqs_record(record: SQSRecord, deadline: Deadline, deletes: BatchedDeletes) -> list[str]:
    """One SQS message; any exception marks it failed so that SQS delivers it again."""
    return [ingest_object(ref, deadline, deletes).status for ref in refs_from_sqs_body(record.body)]


def _batch_operations(event: dict[str, Any], deadline: Deadline) -> dict[str, Any]:
    response = S3BatchOperationResponse(event["invocationSchemaVersion"], event["invocationId"], "PermanentFailure")
    for task, ref in refs_from_batch_operations(event):
        try:
            result = task.build_task_batch_response("Succeeded", ingest_object(ref, deadline).status)
        except TransientError as exc:
            result = task.build_task_batch_response("TemporaryFailure", str(exc))
        except IngestError as exc:
            result = task.build_task_batch_response("PermanentFailure", f"{type(exc).__name__}: {exc}")
        response.add_result(result)
    return response.asdict()
