"""Reading the source object: a seekable file over ranged GETs that astropy reads lazily.

astropy.io.fits reads a file through ``read``/``seek``/``tell``: headers in 2,880-byte
blocks, then a jump over each data unit.  ``RangeReader`` turns those calls into ranged
requests: small reads go through ``BlockCache`` (aligned ``read_ahead`` blocks, the last
few kept, so a header of many blocks costs one GET and coming back to it costs none);
larger reads (image rows) bypass the cache and are fetched directly, as parallel parts
when large.  An object of at most ``whole_object`` bytes is fetched in one GET: for
so few bytes a request costs more than its bytes.  A range that will be read in order (a
thumbnail's plane or heap, a compressed file streamed whole) is declared with
``streaming`` and fetched ahead in parallel parts (``readahead.PartStream``).  Every
request and byte is counted, because what a file costs is part of its metadata.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from handlers.config import ReadSettings
from handlers.errors import IngestError
from handlers.storage.readahead import PartStream

Fetch = Callable[[int, int], bytes]

#: Small-read blocks kept by a reader: headers and the table of a tiled image revisit them.
CACHED_BLOCKS = 16


class BlockCache:
    """Bytes read in aligned blocks of ``blocksize``, each fetched whole, the last ``kept`` of them kept.

    fsspec's ``BlockCache`` does the same (and asks for the same blocks); importing fsspec
    brings in asyncio, a tenth of a second of every cold start and CLI run, for these lines.
    """

    def __init__(self, blocksize: int, fetch: Fetch, kept: int) -> None:
        self.blocksize = blocksize
        self._fetch = fetch
        self._block = functools.lru_cache(kept)(self._fetch_block)

    def read(self, start: int, end: int) -> bytes:
        """Bytes ``[start, end)``: every block they touch, fetched unless kept."""
        first, last = start // self.blocksize, (end - 1) // self.blocksize
        if first == last:
            return self._block(first)[start - first * self.blocksize : end - first * self.blocksize]
        parts = [self._block(number) for number in range(first, last + 1)]
        return b"".join(parts)[start - first * self.blocksize : end - first * self.blocksize]

    def _fetch_block(self, number: int) -> bytes:
        return self._fetch(number * self.blocksize, (number + 1) * self.blocksize)


class RangeReader(io.RawIOBase):
    """A read-only, seekable binary file whose bytes come from ``fetch(start, end)``.

    Parameters:
        fetch: returns bytes ``[start, end)`` of the object (one request; it counts its cost).
        size: the object's size in bytes.
        settings: read-ahead, part size, concurrency and the one-GET threshold.
        name: what astropy and error messages call the file (its URI or path).
        on_close: called once when the reader is closed (a local file's descriptor).
    """

    def __init__(
        self,
        fetch: Fetch,
        size: int,
        settings: ReadSettings,
        name: str,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        self.name = name
        self._on_close = on_close
        self.fault: BaseException | None = None
        self._fetch = fetch
        self._size = size
        self._settings = settings
        self._pos = 0
        self._stream: PartStream | None = None
        block = max(1, size) if settings.fetches_whole(size) else settings.read_ahead
        self._cache = BlockCache(block, self._fetch_guarded, CACHED_BLOCKS)

    @property
    def size(self) -> int:
        return self._size

    @property
    def held_whole(self) -> bool:
        """Whether the first read fetches the whole object, kept in memory."""
        return self._settings.fetches_whole(self._size)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        if not self.closed:
            self._end_stream()
            if self._on_close is not None:
                self._on_close()
        super().close()

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise ValueError(f"negative seek position {base + offset!r}")
        self._pos = base + offset
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        end = self._size if size is None or size < 0 else min(self._size, self._pos + size)
        if end <= self._pos:
            return b""
        data = self._stream.read(self._pos, end) if self._stream is not None else None
        if data is None:
            if end - self._pos <= self._cache.blocksize:  # a small object is one block, cached whole
                data = self._cache.read(self._pos, end)
            else:
                data = self._fetch_parts(self._pos, end)
        self._pos += len(data)
        return data

    @contextmanager
    def streaming(self, start: int, end: int) -> Iterator[None]:
        """Within the block, ``[start, end)`` is read in order: fetch it ahead, in parallel parts.

        Reads elsewhere, or back behind the parts held, go the usual way.
        """
        self._begin_stream(start, end)
        try:
            yield
        finally:
            self._end_stream()

    def prefer_sequential(self) -> None:
        """The caller will stream the whole object from start to end (a compressed file)."""
        self._begin_stream(0, self._size)

    def _begin_stream(self, start: int, end: int) -> None:
        """Read ahead ``[start, end)``; not a range within one block of the cache (a small object is cached whole)."""
        self._end_stream()
        if end - start <= self._cache.blocksize:
            return
        settings = self._settings
        self._stream = PartStream(
            self._fetch_guarded, start, min(end, self._size), settings.part_bytes, settings.concurrency
        )

    def _end_stream(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def readall(self) -> bytes:
        return self.read(-1)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        memoryview(buffer).cast("B")[: len(data)] = data
        return len(data)

    def _fetch_parts(self, start: int, end: int) -> bytes:
        """Fetch a range directly; a large one as parallel parts, to stream near the network's rate."""
        parts = PartStream(self._fetch_guarded, start, end, self._settings.part_bytes, self._settings.concurrency)
        try:
            data = parts.read(start, end)
        finally:
            parts.close()
        assert data is not None  # the stream spans exactly this range
        return data

    def _fetch_guarded(self, start: int, end: int) -> bytes:
        """Remember a fault of the store, so that astropy cannot disguise it as bad input.

        astropy turns some exceptions raised while reading later HDUs into warnings; the
        pipeline checks ``fault`` after reading and re-raises it.
        """
        try:
            return self._fetch(start, min(end, self._size))  # BlockCache asks for whole blocks
        except IngestError as exc:
            self.fault = exc
            raise
