"""Reading the source object: a seekable file over ranged GETs that astropy reads lazily.

astropy.io.fits reads a file through ``read``/``seek``/``tell``: headers in 2,880-byte
blocks, then a jump over each data unit.  ``RangeReader`` turns those calls into ranged
requests: small reads go through fsspec's ``BlockCache`` (aligned ``read_ahead`` blocks,
the last few kept, so a header of many blocks costs one GET and coming back to it costs
none); larger reads (image rows) bypass the cache and are fetched directly, as parallel
parts when large.  An object of at most ``whole_object`` bytes is fetched in one GET: for
so few bytes a request costs more than its bytes.  A range that will be read in order (a
thumbnail's plane or heap, a compressed file streamed whole) is declared with
``streaming`` and fetched ahead in parallel parts (``readahead.PartStream``).  Every
request and byte is counted, because what a file costs is part of its metadata.
"""

from __future__ import annotations

import io
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from fsspec.caching import BlockCache

from .config import ReadSettings
from .errors import ConfigurationError, IngestError, SourceChangedError, TransientError
from .events import ObjectRef
from .readahead import PartStream

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

logger = logging.getLogger(__name__)

Fetch = Callable[[int, int], bytes]

#: Small-read blocks kept by a reader: headers and the table of a tiled image revisit them.
CACHED_BLOCKS = 16

#: A response body cut short is retried this many times; botocore's own retries only
#: cover failures before the response headers arrive.
BODY_ATTEMPTS = 3
_GONE = {"NoSuchKey", "NoSuchVersion", "NotFound", "404"}


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


class RangeReader(io.RawIOBase):
    """A read-only, seekable binary file whose bytes come from ``fetch(start, end)``."""

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
        self._cache = BlockCache(block, self._fetch_guarded, size, maxblocks=CACHED_BLOCKS)

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
                data = self._cache._fetch(self._pos, end)
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


def make_s3_client(settings: ReadSettings, endpoint_url: str | None = None) -> S3Client:
    """One client per process, reused across warm invocations and across reader threads.

    botocore's standard retry mode retries throttling and 5xx answers with backoff; the
    pool is sized for the parallel part reads.
    """
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "total_max_attempts": 5},
        max_pool_connections=max(10, 2 * settings.concurrency),
        connect_timeout=5,
        read_timeout=30,
    )
    return boto3.client("s3", endpoint_url=endpoint_url, config=config)


class S3Source:
    """One S3 object version: its identity, its reader and what reading it cost."""

    def __init__(self, client: S3Client, ref: ObjectRef, settings: ReadSettings) -> None:
        self.client = client
        self.ref = ref
        self.settings = settings
        self.stats = ReadStats()
        #: One GET read the whole object as the key's current version: nothing else needs checking.
        self._read_whole_current = False

    @property
    def key(self) -> str:
        return self.ref.key

    @property
    def notified(self) -> bool:
        return self.ref.notified

    def resolve(self) -> ObjectRef:
        """Fill in size, eTag and version with one HEAD when the event did not carry them."""
        if self.ref.size is not None and (self.ref.etag or self.ref.version_id):
            return self.ref
        extra = {"VersionId": self.ref.version_id} if self.ref.version_id else {}
        try:
            head = self.client.head_object(Bucket=self.ref.bucket, Key=self.ref.key, **extra)
        except ClientError as exc:
            raise classify_client_error(exc, self.ref.uri) from exc
        except BotoCoreError as exc:
            raise TransientError(f"HEAD {self.ref.uri}: {exc}") from exc
        finally:
            self.stats.add(0)
        self.ref = replace(
            self.ref,
            size=head["ContentLength"],
            etag=head["ETag"].strip('"'),
            version_id=self.ref.version_id or _real_version(head.get("VersionId")),
        )
        return self.ref

    def is_current(self) -> bool:
        """Whether the announced version is still the object's current one (one HEAD).

        Checked before anything is written, so that events handled out of order, or an
        object replaced while it was read, never leave outputs of an outdated version.
        An object read whole in one GET was read as the current version (``_get_range``):
        that GET was the check, and no HEAD is sent.
        """
        if self._read_whole_current:
            return True
        head = self._head_current()
        if head is None:
            return False
        if self.ref.version_id:
            return _real_version(head.get("VersionId")) == self.ref.version_id
        return head["ETag"].strip('"') == self.ref.etag

    def exists(self) -> bool:
        """Whether the key has a current version, whichever it is (one HEAD)."""
        return self._head_current() is not None

    def _head_current(self) -> dict[str, Any] | None:
        try:
            return self.client.head_object(Bucket=self.ref.bucket, Key=self.ref.key)
        except ClientError as exc:
            error = classify_client_error(exc, self.ref.uri)
            if isinstance(error, SourceChangedError):
                return None
            raise error from exc
        except BotoCoreError as exc:
            raise TransientError(f"HEAD {self.ref.uri}: {exc}") from exc
        finally:
            self.stats.add(0)

    def describe(self) -> dict[str, Any]:
        return {
            "bucket": self.ref.bucket,
            "key": self.ref.key,
            "version_id": self.ref.version_id,
            "etag": self.ref.etag,
            "size": self.ref.size,
        }

    def open(self) -> RangeReader:
        ref = self.resolve()
        assert ref.size is not None
        return RangeReader(self._get_range, ref.size, self.settings, name=ref.uri)

    def _get_range(self, start: int, end: int) -> bytes:
        """GET bytes [start, end) of exactly the announced object version.

        A GET of the whole object asks for the key's current version instead, on condition
        of the announced eTag, and compares the version it got: a small object, read in
        that one request, is then known current without a HEAD.
        """
        ref = self.ref
        whole = start == 0 and end == ref.size
        for attempt in range(1, BODY_ATTEMPTS + 1):
            try:
                response = self.client.get_object(
                    Bucket=ref.bucket, Key=ref.key, Range=f"bytes={start}-{end - 1}", **self._guard(whole)
                )
                body = response["Body"].read()
            except ClientError as exc:
                self.stats.add(0)
                raise classify_client_error(exc, ref.uri) from exc
            except BotoCoreError as exc:
                self.stats.add(0)
                if attempt == BODY_ATTEMPTS:
                    raise TransientError(f"GET {ref.uri} bytes {start}-{end - 1}: {exc}") from exc
                logger.warning("retrying ranged GET after %s (attempt %d)", exc, attempt)
                continue
            self.stats.add(len(body))
            if whole and ref.version_id and _real_version(response.get("VersionId")) != ref.version_id:
                raise SourceChangedError(f"{ref.uri} was overwritten after the event announced it")
            if len(body) == end - start:
                self._read_whole_current = whole
                return body
            if attempt == BODY_ATTEMPTS:
                raise TransientError(
                    f"GET {ref.uri} bytes {start}-{end - 1} returned {len(body)} bytes"
                )
            logger.warning("short body (%d of %d bytes); retrying", len(body), end - start)
        raise AssertionError("unreachable")

    def _guard(self, current: bool) -> dict[str, str]:
        """The announced version; or, when ``current`` or no version is known, the key's current
        one on condition of the announced eTag."""
        ref = self.ref
        if ref.version_id and not current:
            return {"VersionId": ref.version_id}
        return {"IfMatch": f'"{ref.etag}"'} if ref.etag else {}


class LocalSource:
    """A local file read through the same counting reader, for the CLI."""

    notified = False

    def __init__(self, path: str, settings: ReadSettings) -> None:
        self.path = path
        self.settings = settings
        self.stats = ReadStats()
        self.key = os.path.basename(path)

    def describe(self) -> dict[str, Any]:
        return {"bucket": None, "key": self.key, "version_id": None, "etag": None,
                "size": os.path.getsize(self.path), "path": os.path.abspath(self.path)}

    def resolve(self) -> None:
        """Nothing to look up: a local file has no eTag to compare."""
        return None

    def is_current(self) -> bool:
        return os.path.isfile(self.path)

    def exists(self) -> bool:
        return os.path.isfile(self.path)

    def open(self) -> RangeReader:
        fd = os.open(self.path, os.O_RDONLY)
        size = os.fstat(fd).st_size

        def pread(start: int, end: int) -> bytes:
            data = os.pread(fd, end - start, start)
            self.stats.add(len(data))
            return data

        return RangeReader(pread, size, self.settings, name=self.path, on_close=lambda: os.close(fd))


def _real_version(version_id: str | None) -> str | None:
    """S3 reports 'null' for objects written before versioning was enabled."""
    return None if version_id in (None, "null") else version_id


def classify_client_error(exc: ClientError, uri: str) -> IngestError:
    """Map an S3 error to what should happen next: skip, retry, or stop and fix the setup."""
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    if code == "PreconditionFailed" or status == 412:
        return SourceChangedError(f"{uri} was overwritten after the event announced it")
    if code in _GONE or status == 404:
        return SourceChangedError(f"{uri} no longer exists (deleted after the event)")
    if code == "AccessDenied" or status == 403:
        return ConfigurationError(f"access denied on {uri}: check the function's role")
    return TransientError(f"S3 answered {code or status} on {uri}: {error.get('Message', exc)}")
