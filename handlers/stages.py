"""The pipeline's stages as named spans: X-Ray subsegments where the Lambda traces, nothing elsewhere.

The pipeline and the FITS layer mark their stages here; ``aws.observability`` plugs in
its Tracer when the handler is imported, so that the CLI never imports Powertools (a
tenth of a second of each run's CPU).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

Span = Callable[[str], AbstractContextManager[Any]]

_span: Span | None = None


def stage(name: str) -> AbstractContextManager[Any]:
    """A span around one stage of the pipeline, ``## name`` (a no-op where no tracer is plugged in)."""
    return _span(f"## {name}") if _span is not None else nullcontext()


def trace_stages_with(span: Span) -> None:
    """Every stage from now on is a ``span`` (the Lambda's Tracer's subsegments)."""
    global _span
    _span = span
