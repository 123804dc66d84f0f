"""One object computes at a time: a process-wide lock around work that waits on nothing else.

Python threads never compute at once (the GIL).  When several contend, each is
preempted every few milliseconds and resumes with cold caches, so the same work costs
more CPU (docs/measurements.md has the figures).  Whoever holds the lock must not wait on S3
or on another thread, so that the waits of the other objects still overlap with it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_computing = threading.Lock()


@contextmanager
def exclusive_compute() -> Iterator[None]:
    """Hold the process's one computing turn while the block runs."""
    with _computing:
        yield
