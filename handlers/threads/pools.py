"""Thread pools kept for the life of the process, and work mapped over them.

Starting threads for each object costs more than its small requests do, and a warm
Lambda environment keeps its threads between invocations.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

_pools: dict[tuple[str, int], ThreadPoolExecutor] = {}
_lock = threading.Lock()


def persistent_pool(name: str, threads: int) -> ThreadPoolExecutor:
    """The process's pool ``name`` of ``threads`` threads, started on first use and kept.

    Its tasks must not wait for other tasks of the same pool, which could then never run.
    """
    with _lock:
        pool = _pools.get((name, threads))
        if pool is None:
            pool = _pools[(name, threads)] = ThreadPoolExecutor(threads, thread_name_prefix=name)
        return pool


def map_concurrently(work: Callable[[T], R], items: Iterable[T], workers: int) -> list[R]:
    """``work`` on each item, up to ``workers`` at once (the "object" pool); results in order."""
    items = list(items)
    if workers <= 1 or len(items) <= 1:
        return [work(item) for item in items]
    return list(persistent_pool("object", workers).map(work, items))
