"""Thread pools started once per process and kept across objects and invocations.

Starting threads for each object costs more than its small requests do, and a warm
Lambda environment keeps its threads between invocations.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

_pools: dict[tuple[str, int], ThreadPoolExecutor] = {}
_lock = threading.Lock()


def kept_pool(name: str, threads: int) -> ThreadPoolExecutor:
    """The process's pool ``name`` of ``threads`` threads, started on first use.

    Its tasks must not wait for other tasks of the same pool, which could then never run.
    """
    with _lock:
        pool = _pools.get((name, threads))
        if pool is None:
            pool = _pools[(name, threads)] = ThreadPoolExecutor(threads, thread_name_prefix=name)
        return pool
