"""Deletes from the objects of one batch, sent together: one DeleteObjects, not a DELETE each.

Every processed object deletes its key's earlier error record before its metadata is
written, so in an SQS batch of small objects one request in five is that DELETE, and
the client's CPU per request is what bounds their throughput.  Here each object's
thread asks and waits; as soon as every object still running is waiting, one request
carries all their keys, and each thread gets its own key's answer.  An object counts
from the moment its thread starts, so one that is queued behind the pool's threads is
never waited for (no deadlock, whatever else shares the pool); one that is read in parts
(it takes long) deletes alone, so that the small ones need not wait for its read.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")
#: Deletes the keys (one request); returns the faults of the keys that were not deleted.
Sender = Callable[[list[str]], Mapping[str, Exception]]


@dataclass
class _Ask:
    key: str
    send: Sender
    answered: threading.Event = field(default_factory=threading.Event)
    fault: Exception | None = None


class BatchedDeletes:
    """The deletes of the objects run through ``participant``; see the module's docstring."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0  # objects whose thread has started and not finished
        self._waiting = 0  # callers waiting for a delete, sent or not yet
        self._asked: list[_Ask] = []  # not sent yet

    def participant(self, work: Callable[[T], Any]) -> Callable[[T], Any]:
        """``work`` counted as one of the running objects while it runs."""

        def run(item: T) -> Any:
            with self._lock:
                self._running += 1
            try:
                return work(item)
            finally:
                with self._lock:
                    self._running -= 1
                    ready = self._take_ready()
                self._send(ready)

        return run

    @contextmanager
    def deleting_alone(self) -> Iterator[None]:
        """Around the work of an object that takes long (one read in parts): the others do not
        wait for it meanwhile, and it deletes by itself."""
        with self._lock:
            self._running -= 1
            ready = self._take_ready()
        self._send(ready)
        try:
            yield
        finally:
            with self._lock:
                self._running += 1

    def delete(self, key: str, send: Sender) -> None:
        """Delete ``key`` together with the other objects' keys; raise its fault, if any.

        Every object of a batch writes to the same bucket, so the first asker's ``send``
        carries the keys of all.
        """
        ask = _Ask(key, send)
        with self._lock:
            self._asked.append(ask)
            self._waiting += 1
            ready = self._take_ready()
        try:
            self._send(ready)
            ask.answered.wait()
        finally:
            with self._lock:
                self._waiting -= 1
        if ask.fault is not None:
            raise ask.fault

    def _take_ready(self) -> list[_Ask]:
        """The asks to send now (under the lock): all of them, once no running object computes."""
        if not self._asked or self._waiting < self._running:
            return []
        ready, self._asked = self._asked, []
        return ready

    @staticmethod
    def _send(ready: list[_Ask]) -> None:
        if not ready:
            return
        keys = list(dict.fromkeys(ask.key for ask in ready))
        try:
            faults: Mapping[str, Exception] = ready[0].send(keys)
        except Exception as exc:  # the request failed as a whole: each asker raises it
            faults = dict.fromkeys(keys, exc)
        for ask in ready:
            ask.fault = faults.get(ask.key)
            ask.answered.set()
