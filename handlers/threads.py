"""How this process's threads share its work: pools kept across objects, one CPU turn.

Starting threads for each object costs more than its small requests do, and a warm
Lambda environment keeps its threads between invocations.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

_pools: dict[tuple[str, int], ThreadPoolExecutor] = {}
_lock = threading.Lock()
_cpu = threading.Lock()


def kept_pool(name: str, threads: int) -> ThreadPoolExecutor:
    """The process's pool ``name`` of ``threads`` threads, started on first use.

    Its tasks must not wait for other tasks of the same pool, which could then never run.
    """
    with _lock:
        pool = _pools.get((name, threads))
        if pool is None:
            pool = _pools[(name, threads)] = ThreadPoolExecutor(threads, thread_name_prefix=name)
        return pool


@contextmanager
def cpu_turn() -> Iterator[None]:
    """Compute for one object at a time: held around work that waits on nothing else.

    Python threads never compute at once (the GIL).  When several contend, each is
    preempted every few milliseconds and resumes with cold caches: in batches of 5,
    the extraction of a small file cost about a fifth more CPU than one at a time.
    Whoever holds the turn must not wait on S3 or on another thread, so that the
    waits of the other objects still overlap with it.
    """
    with _cpu:
        yield
