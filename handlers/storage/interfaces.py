"""What the layers above ask of storage: a source object, the stream read from it, its cost, the output root.

The pipeline and the FITS layer depend on these protocols only; the concrete readers
and sources (``reader``, ``s3_source``, ``local_source``) stay inside this package.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from types import TracebackType
from typing import IO, Protocol

from handlers.documents import SourceDescription, SourceIdentity


@dataclass
class ReadStats:
    """Requests and bytes spent on one source object (updated from several threads)."""

    requests: int = 0
    bytes_read: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def add(self, nbytes: int) -> None:
        with self._lock:
            self.requests += 1
            self.bytes_read += nbytes


class SourceStream(Protocol):
    """A seekable binary stream over one object, as the FITS layer reads it."""

    name: str
    #: A fault of the store met while reading: astropy may have turned it into a warning
    #: or another exception, so the caller re-raises it as itself.
    fault: BaseException | None

    @property
    def held_whole(self) -> bool:
        """Whether the first read fetches the whole object, kept in memory."""

    def read(self, size: int | None = -1, /) -> bytes: ...

    def seek(self, offset: int, whence: int = 0, /) -> int: ...

    def tell(self) -> int: ...

    def readable(self) -> bool: ...

    def seekable(self) -> bool: ...

    def close(self) -> None: ...

    def __enter__(self) -> SourceStream: ...

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None: ...

    def streaming(self, start: int, end: int) -> AbstractContextManager[None]:
        """Within the block, ``[start, end)`` is read in order: fetch it ahead."""

    def prefer_sequential(self) -> None:
        """The caller will read the whole object from start to end (a compressed file)."""


#: What the FITS layer reads: the source's stream, or a decompressed copy of it.
ByteStream = IO[bytes] | SourceStream


class Source(Protocol):
    """One object to ingest: where it is, what version, and a stream of its bytes."""

    @property
    def key(self) -> str: ...

    @property
    def stats(self) -> ReadStats:
        """What reading the object has cost so far."""

    def reads_whole_in_one_request(self, size: int) -> bool:
        """Whether an object of ``size`` bytes is read whole by one request, sent whatever the pipeline
        decides (S3: the GET that reads it, or learns its size): asking for an earlier run first would
        then save no read."""

    def resolve(self) -> object:
        """Fill in what the event did not say (size, eTag, version)."""

    def describe(self) -> SourceDescription: ...

    def open(self) -> SourceStream: ...

    def is_current(self) -> bool:
        """Whether the version read is still the key's current one."""

    def exists(self) -> bool:
        """Whether the key has a current version, whichever it is."""


#: The S3 user metadata of a metadata document that names its source's eTag and version.
SOURCE_ETAG = "source-etag"
SOURCE_VERSION = "source-version-id"


class OutputRoot(Protocol):
    """Where outputs go: written whole or not at all, under keys of ``handlers.layout``."""

    uri: str

    def check_keys(self, keys: Iterable[str]) -> None:
        """Raise ``OutputKeyTooLongError`` for the first key the root cannot hold, before anything is written."""

    def put(self, key: str, body: bytes, content_type: str, tags: Mapping[str, str] | None = None) -> None:
        """Write one output object (whole, or not at all)."""

    def put_if_absent(self, key: str, body: bytes, content_type: str, tags: Mapping[str, str]) -> bool:
        """Write ``key`` only if it does not exist; False (nothing written) if it does."""

    def recorded_source(self, key: str) -> SourceIdentity | None:
        """The source eTag/version recorded with the metadata document at ``key``, if any."""

    def delete(self, key: str) -> None:
        """Remove ``key`` if it exists."""

    def children(self, prefix: str) -> list[str]:
        """The keys directly under ``prefix`` (which ends with '/'), not in deeper folders."""
