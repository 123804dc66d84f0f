"""Powertools' SQS partial-batch processor, with a batch's messages handled concurrently."""

from __future__ import annotations

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

from handlers.storage.batched_deletes import BatchedDeletes
from handlers.threads.pools import map_concurrently


class ConcurrentBatchProcessor(BatchProcessor):
    """Each object spends most of its time waiting on S3, so a batch takes about as long as
    its slowest object rather than the sum of all of them."""

    def __init__(self, workers: int, deletes: BatchedDeletes) -> None:
        super().__init__(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        self._workers = workers
        self._deletes = deletes

    def process(self) -> list[tuple]:
        return map_concurrently(self._deletes.participant(self._process_record), self.records, self._workers)
