"""Powertools' Logger, Metrics and Tracer, configured once for the whole package.

Tracer wraps aws-xray-sdk and patches botocore, so every S3 call is a subsegment; it
disables itself outside Lambda (no daemon to talk to), where ``stage`` then costs nothing.
"""

from __future__ import annotations

import os
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

from handlers.stages import trace_stages_with

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "fits-ingest")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "FitsIngest")


class _Unrecorded(BaseSegment):
    """A subsegment of tracing that is off: everything put on it is dropped."""

    def close(self, end_time: int | None = None) -> None: ...

    def add_subsegment(self, subsegment: Any) -> None: ...

    def remove_subsegment(self, subsegment: Any) -> None: ...

    def put_annotation(self, key: str, value: Any) -> None: ...

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None: ...

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None: ...


class Untraced(BaseProvider):
    """The provider of a Tracer that is off, which never imports aws-xray-sdk.

    Powertools otherwise imports the SDK and builds its recorder even for a disabled
    Tracer, a cost paid at every cold start where nothing is traced (the CLI, the local
    worker, a function with POWERTOOLS_TRACE_DISABLED); docs/measurements.md has it.
    """

    @contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Iterator[BaseSegment]:
        yield _Unrecorded()

    @asynccontextmanager
    async def in_subsegment_async(self, name: str | None = None, **kwargs: Any) -> AsyncIterator[BaseSegment]:
        yield _Unrecorded()

    def put_annotation(self, key: str, value: Any) -> None: ...

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None: ...

    def patch(self, modules: Sequence[str]) -> None: ...

    def patch_all(self) -> None: ...


def _tracer() -> Tracer:
    """Powertools' Tracer; where Powertools' own rule says tracing is off, without aws-xray-sdk."""
    if Tracer._is_tracer_disabled():  # POWERTOOLS_TRACE_DISABLED, or not in Lambda
        return Tracer(service=SERVICE, disabled=True, provider=Untraced())
    return Tracer(service=SERVICE)


logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = _tracer()


trace_stages_with(tracer.provider.in_subsegment)  # each stage of the pipeline an X-Ray subsegment (off: a no-op)


_metrics_lock = threading.Lock()


def add_metrics(*entries: tuple[str, MetricUnit, float]) -> None:
    """Add metrics from any thread: Powertools' metric set is a plain dict, updated under a lock."""
    with _metrics_lock:
        for name, unit, value in entries:
            metrics.add_metric(name=name, unit=unit, value=value)
