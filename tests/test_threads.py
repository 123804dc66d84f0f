"""kept_pool: one pool per name and size for the whole process, its threads reused."""

from __future__ import annotations

import threading

from handlers.threads import kept_pool


def test_a_pool_is_started_once_and_kept_across_calls() -> None:
    pool = kept_pool("test-kept", 2)
    first = set(pool.map(lambda _: threading.current_thread().name, range(8)))
    again = kept_pool("test-kept", 2)
    second = set(again.map(lambda _: threading.current_thread().name, range(8)))
    assert again is pool
    assert first | second <= {"test-kept_0", "test-kept_1"}  # no new threads for the second call
    assert kept_pool("test-kept", 3) is not pool  # another size is another pool (BATCH_CONCURRENCY changed)
