"""The Lambda entry point: events in, results out.

Every event shape becomes ``ObjectRef`` values (``events``); each is run through the
pipeline.  A problem of an input is answered by an ``errors/`` record and counts as
done; a fault of the store is retried by AWS: raised for direct, SNS and EventBridge
invocations, reported per message for SQS (``batchItemFailures``) and per task for
S3 Batch Operations (``TemporaryFailure``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import asdict
from functools import partial
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes import S3BatchOperationResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from .config import Settings
from .deadline import Deadline
from .errors import IngestError, RecursiveTriggerError, TransientError
from .events import (
    ObjectRef,
    is_batch_operations_event,
    is_sqs_event,
    refs_from_batch_operations,
    refs_from_notification,
    refs_from_sqs_body,
    refs_from_uris,
)
from .observability import logger, metrics, tracer
from .outputs import BucketOutput
from .pipeline import Outcome, process, remove
from .s3io import S3Source, make_s3_client
from .shared_deletes import SharedDeletes
from .threads import kept_pool

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_s3 import S3Client

_settings: Settings | None = None
_client: S3Client | None = None


def settings() -> Settings:
    """Read once per cold start; a bad variable fails every invocation loudly."""
    global _settings
    if _settings is None:
        _settings = Settings.from_env()
    return _settings


def s3_client() -> S3Client:
    """Built on first use (never at import: tests start moto first), then reused."""
    global _client
    if _client is None:
        _client = make_s3_client(settings().reads)
    return _client


def reset() -> None:
    """Forget the cached settings and client (tests change the environment between runs)."""
    global _settings, _client
    _settings, _client = None, None


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    metrics.add_metric(name="Invocations", unit=MetricUnit.Count, value=1)
    deadline = Deadline.from_context(context, settings().limits.time_reserve_s)
    s3_client()  # built once, before any worker thread needs it (building clients is not thread-safe)
    shared = SharedDeletes()  # the objects of this invocation delete their error records together
    if is_sqs_event(event):
        processor = ConcurrentBatchProcessor(settings().batch_concurrency, shared)
        record_handler = partial(_sqs_record, deadline=deadline, shared=shared)
        return process_partial_response(event, record_handler, processor, context)
    if is_batch_operations_event(event):
        return _batch_operations(event, deadline)
    refs = refs_from_uris(event) if "uris" in event else refs_from_notification(event)
    work = shared.each(partial(_ingest_or_fault, deadline=deadline, shared=shared))
    results = side_by_side(work, refs, settings().batch_concurrency)
    faults = [result for result in results if isinstance(result, TransientError)]
    if faults:
        raise faults[0]
    return {"outcomes": [{"key": o.key, "status": o.status} for o in results if isinstance(o, Outcome)]}


class ConcurrentBatchProcessor(BatchProcessor):
    """Powertools' SQS partial-batch processor, with the batch's messages handled side by side.

    Each object spends most of its time waiting on S3, so a batch takes about as long as
    its slowest object rather than the sum of all of them.
    """

    def __init__(self, workers: int, shared: SharedDeletes) -> None:
        super().__init__(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        self._workers = workers
        self._shared = shared

    def process(self) -> list[tuple]:
        return side_by_side(self._shared.each(self._process_record), self.records, self._workers)


def side_by_side(work: Callable[[Any], Any], items: Iterable[Any], workers: int) -> list[Any]:
    """``work`` on each item, up to ``workers`` (BATCH_CONCURRENCY) at once; results in order."""
    items = list(items)
    if workers <= 1 or len(items) <= 1:
        return [work(item) for item in items]
    return list(kept_pool("object", workers).map(work, items))


def _ingest_or_fault(ref: ObjectRef, deadline: Deadline, shared: SharedDeletes) -> Outcome | TransientError:
    """A transient fault is returned rather than raised, so that the other objects go on."""
    try:
        return ingest(ref, deadline, shared)
    except TransientError as exc:
        return exc


def ingest(ref: ObjectRef, deadline: Deadline, shared: SharedDeletes | None = None) -> Outcome:
    """Process (or, for a deletion, clean up after) one object; one log line and its metrics.

    ``shared``: the deletes of the invocation's objects that run side by side.
    """
    config = settings()
    output_bucket = config.require_output_bucket()
    if ref.bucket == output_bucket:
        raise RecursiveTriggerError(
            f"refusing {ref.uri}: it is in the output bucket {output_bucket!r}, "
            "and writing there would trigger this function again"
        )
    source = S3Source(s3_client(), ref, config.reads)
    # An object read in parts (or of a size not yet known) takes long: the batch does not wait for it.
    quick = shared is not None and ref.size is not None and config.reads.fetches_whole(ref.size)
    out = BucketOutput(s3_client(), output_bucket, shared if quick else None)
    try:
        with shared.aside() if shared is not None and not quick else nullcontext():
            outcome = remove(source, out) if ref.removed else process(source, out, config, deadline)
    except IngestError as exc:
        _add_metrics(("FailedObjects", MetricUnit.Count, 1))
        logger.warning("object failed", extra={
            "bucket": ref.bucket, "key": ref.key, "status": "failed",
            "error": {"class": type(exc).__name__, "message": str(exc)},
            "bytes_read": source.stats.bytes_read, "requests": source.stats.requests,
        })
        raise
    logger.info(f"object {outcome.status}", extra={"bucket": ref.bucket, **asdict(outcome)})
    _add_metrics(
        (f"Objects{outcome.status.capitalize()}", MetricUnit.Count, 1),
        ("BytesRead", MetricUnit.Bytes, outcome.bytes_read),
        ("SourceRequests", MetricUnit.Count, outcome.requests),
        ("ProcessingTime", MetricUnit.Milliseconds, outcome.duration_ms),
    )
    return outcome


_metrics_lock = threading.Lock()


def _add_metrics(*entries: tuple[str, MetricUnit, float]) -> None:
    """Add metrics from any thread: Powertools' metric set is a plain dict, updated under a lock."""
    with _metrics_lock:
        for name, unit, value in entries:
            metrics.add_metric(name=name, unit=unit, value=value)


def _sqs_record(record: SQSRecord, deadline: Deadline, shared: SharedDeletes) -> list[str]:
    """One SQS message; any exception marks it failed so that SQS delivers it again."""
    return [ingest(ref, deadline, shared).status for ref in refs_from_sqs_body(record.body)]


def _batch_operations(event: dict[str, Any], deadline: Deadline) -> dict[str, Any]:
    response = S3BatchOperationResponse(event["invocationSchemaVersion"], event["invocationId"], "PermanentFailure")
    for task, ref in refs_from_batch_operations(event):
        try:
            result = task.build_task_batch_response("Succeeded", ingest(ref, deadline).status)
        except TransientError as exc:
            result = task.build_task_batch_response("TemporaryFailure", str(exc))
        except IngestError as exc:
            result = task.build_task_batch_response("PermanentFailure", f"{type(exc).__name__}: {exc}")
        response.add_result(result)
    return response.asdict()
