"""Read-ahead for a byte range that is about to be read in order: parts fetched in parallel.

Drawing a thumbnail reads an image's plane from start to end in row blocks, a
tile-compressed image's heap tile by tile, and a gzip file is streamed whole.  Fetching
each of those reads only when astropy asks for it leaves the network idle while the rows
are reduced, and a heap of small tiles costs a request per tile.  ``PartStream`` fetches
the range as ``part_bytes`` parts, keeping up to ``depth`` of them in flight or held
ahead of the reader, and drops each part once the reader is past it, so memory stays at
``depth`` parts whatever the range's size.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

logger = logging.getLogger(__name__)

Fetch = Callable[[int, int], bytes]


@dataclass(frozen=True)
class _Part:
    start: int
    end: int
    data: Future[bytes]


class PartStream:
    """Bytes ``[start, end)`` fetched ahead in aligned parts, for a reader moving forward."""

    def __init__(self, fetch: Fetch, start: int, end: int, part_bytes: int, depth: int) -> None:
        self.start = start
        self.end = end
        self._fetch = fetch
        self._part_bytes = part_bytes
        self._depth = depth
        self._parts: deque[_Part] = deque()
        self._next = start
        self._pool = ThreadPoolExecutor(max_workers=depth, thread_name_prefix="readahead")

    def read(self, pos: int, end: int) -> bytes | None:
        """Bytes ``[pos, end)``, or None when they are outside what this stream can serve.

        A read behind the parts still held (the reader went back) is left to the caller.
        """
        if not (self.start <= pos and end <= self.end and pos < end):
            return None
        while self._parts and self._parts[0].end <= pos:
            self._parts.popleft().data.cancel()
        if self._parts and pos < self._parts[0].start or not self._parts and pos < self._next:
            return None
        if not self._parts:  # a jump forward: start again at the part that holds pos
            self._next = max(self._next, self.start + (pos - self.start) // self._part_bytes * self._part_bytes)
        while self._next < self.end and (self._next < end or len(self._parts) < self._depth):
            part_end = min(self._next + self._part_bytes, self.end)
            self._parts.append(_Part(self._next, part_end, self._pool.submit(self._fetch, self._next, part_end)))
            self._next = part_end
        chunks = []
        for part in self._parts:
            if part.start >= end:
                break
            data = memoryview(part.data.result())
            chunks.append(data[max(pos, part.start) - part.start : min(end, part.end) - part.start])
        return b"".join(chunks)

    def close(self) -> None:
        """Drop what is held; parts not yet started are never fetched."""
        self._parts.clear()
        self._pool.shutdown(wait=True, cancel_futures=True)
