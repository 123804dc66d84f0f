"""BatchedDeletes: the deletes of objects running side by side go out as one request.

Each case starts its objects behind a barrier, so that all are running before any asks
(a clock would only make that likely).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from handlers.errors import TransientError
from handlers.storage.batched_deletes import BatchedDeletes


class Store:
    """A sender that records each request's keys and answers with the given faults."""

    def __init__(self, faults: Mapping[str, Exception] | None = None, down: Exception | None = None) -> None:
        self.requests: list[list[str]] = []
        self.faults = dict(faults or {})
        self.down = down

    def send(self, keys: list[str]) -> Mapping[str, Exception]:
        self.requests.append(sorted(keys))
        if self.down is not None:
            raise self.down
        return {key: fault for key, fault in self.faults.items() if key in keys}


def run_together(deletes: BatchedDeletes, works: list[Callable[[], Any]], threads: int | None = None) -> list[Any]:
    """Each work as one object of the batch, all started before any goes on; results or exceptions."""
    threads = threads or len(works)
    barrier = threading.Barrier(threads, timeout=30)

    def member(work: Callable[[], Any]) -> Any:
        barrier.wait()
        return work()

    with ThreadPoolExecutor(threads) as pool:
        futures = [pool.submit(deletes.participant(member), work) for work in works]
        return [future.exception() or future.result() for future in futures]


def deleting(deletes: BatchedDeletes, store: Store, key: str) -> Callable[[], str]:
    def work() -> str:
        deletes.delete(key, store.send)
        return key
    return work


def test_the_deletes_of_objects_running_together_go_in_one_request() -> None:
    deletes, store = BatchedDeletes(), Store()

    results = run_together(deletes, [deleting(deletes, store, key) for key in ("a", "b", "c")])

    assert results == ["a", "b", "c"]
    assert store.requests == [["a", "b", "c"]]


def test_an_object_that_deletes_nothing_is_not_waited_for() -> None:
    deletes, store = BatchedDeletes(), Store()

    results = run_together(deletes, [deleting(deletes, store, "a"), lambda: "nothing to delete"])

    assert results == ["a", "nothing to delete"]
    assert store.requests == [["a"]]


def test_objects_queued_behind_the_pool_are_not_waited_for() -> None:
    deletes, store = BatchedDeletes(), Store()

    with ThreadPoolExecutor(1) as pool:  # the second object starts only once the first is done
        results = list(pool.map(deletes.participant(lambda key: deleting(deletes, store, key)()), ["a", "b"]))

    assert results == ["a", "b"]
    assert store.requests == [["a"], ["b"]]


def test_each_object_gets_its_own_keys_fault() -> None:
    fault = TransientError("S3 answered InternalError on b")
    deletes, store = BatchedDeletes(), Store(faults={"b": fault})

    results = run_together(deletes, [deleting(deletes, store, key) for key in ("a", "b", "c")])

    assert results == ["a", fault, "c"]


def test_a_failed_request_fails_every_object_in_it() -> None:
    down = TransientError("S3 answered SlowDown")
    deletes, store = BatchedDeletes(), Store(down=down)

    results = run_together(deletes, [deleting(deletes, store, key) for key in ("a", "b")])

    assert results == [down, down] and store.requests == [["a", "b"]]


def test_a_delete_outside_any_batch_is_sent_at_once() -> None:
    deletes, store = BatchedDeletes(), Store()

    deletes.delete("alone", store.send)

    assert store.requests == [["alone"]]


def test_one_key_asked_twice_is_sent_once() -> None:
    deletes, store = BatchedDeletes(), Store()

    results = run_together(deletes, [deleting(deletes, store, "k"), deleting(deletes, store, "k")])

    assert results == ["k", "k"] and store.requests == [["k"]]


def test_an_object_standing_aside_is_not_waited_for() -> None:
    deletes, store = BatchedDeletes(), Store()
    deleted = threading.Event()

    def long_read() -> str:
        with deletes.deleting_alone():
            assert deleted.wait(30), "the batch waited for the object standing aside"
        return "long"

    def quick() -> str:
        deletes.delete("a", store.send)
        deleted.set()
        return "a"

    assert run_together(deletes, [quick, long_read]) == ["a", "long"]
    assert store.requests == [["a"]]
