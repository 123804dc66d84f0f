"""An S3 object version as a source: its identity, its currency, and ranged GETs of exactly it."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from handlers.config import ReadSettings
from handlers.documents import SourceDescription
from handlers.errors import IngestError, SourceChangedError, TransientError
from handlers.object_ref import ObjectRef
from handlers.storage.interfaces import ReadStats
from handlers.storage.reader import RangeReader
from handlers.storage.s3_errors import classify_client_error

if TYPE_CHECKING:
    from botocore.response import StreamingBody
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import GetObjectOutputTypeDef, HeadObjectOutputTypeDef

logger = logging.getLogger(__name__)

#: A response body cut short is retried this many times; botocore's own retries only
#: cover failures before the response headers arrive.
BODY_ATTEMPTS = 3


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
        #: The whole object, where ``resolve``'s first GET read it: the reader asks for it again.
        self._whole: bytes | None = None
        self._resolve_fault: IngestError | None = None

    @property
    def key(self) -> str:
        return self.ref.key

    def reads_whole_in_one_request(self, size: int) -> bool:
        """Whether the object is read in one GET: then asking first costs a request that saves no read."""
        return self.settings.fetches_whole(size)

    def resolve(self) -> ObjectRef:
        """Fill in size, eTag and version, where the event did not carry them, with the object's first GET.

        A ranged GET of the first ``whole_object`` bytes answers what a HEAD would (its
        Content-Range gives the size, its ETag and version the identity) and, for an object
        no larger, is the whole read too.  A larger object's body is left unread (the
        pipeline may yet skip it) and read later in ranges.  An empty object has no first
        byte to give (S3 answers 416): a HEAD asks instead.
        """
        if self.ref.size is not None and (self.ref.etag or self.ref.version_id):
            return self.ref
        if self._resolve_fault is not None:  # met by ``size_if_known``: botocore already retried it
            raise self._resolve_fault
        ref = self.ref
        try:
            response = self.client.get_object(
                Bucket=ref.bucket, Key=ref.key, Range=f"bytes=0-{max(1, self.settings.whole_object) - 1}",
                **self._guard(current=False),
            )
        except ClientError as exc:
            self.stats.add(0)
            if exc.response.get("Error", {}).get("Code") == "InvalidRange":
                return self._resolve_by_head()
            raise classify_client_error(exc, ref.uri) from exc
        except BotoCoreError as exc:
            self.stats.add(0)
            raise TransientError(f"GET {ref.uri}: {exc}") from exc
        self.ref = replace(
            ref,
            size=_total_size(response),
            etag=response["ETag"].strip('"'),
            version_id=ref.version_id or _real_version(response.get("VersionId")),
        )
        self._keep_first_body(response["Body"], current=not ref.version_id)
        return self.ref

    def _keep_first_body(self, body: StreamingBody, current: bool) -> None:
        """Keep the first GET's body where it is the whole object, else close it unread.

        A body cut short is not kept: the reader's GET (with its retries) fetches it again.
        Asked for without a version, the body is the key's current version: no HEAD need check it.
        """
        size = self.ref.size
        assert size is not None
        if not self.settings.fetches_whole(size):
            body.close()
            self.stats.add(0)
            return
        try:
            data = body.read()
        except BotoCoreError as exc:
            logger.warning("the first GET of %s was cut short (%s); it is read again", self.ref.uri, exc)
            data = b""
        self.stats.add(len(data))
        if len(data) == size:
            self._whole = data
            self._read_whole_current = current

    def _resolve_by_head(self) -> ObjectRef:
        extra: dict[str, Any] = {"VersionId": self.ref.version_id} if self.ref.version_id else {}
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

    def size_if_known(self) -> int | None:
        """The object's size, from the event or from ``resolve``'s first GET, sent now rather than in the
        pipeline (it is not sent twice): a caller batching deletes needs it before the object starts.
        None where that GET fails; the pipeline meets the same fault again (not sent again) and says what it means.
        """
        try:
            return self.resolve().size
        except IngestError as exc:
            self._resolve_fault = exc
            return None

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

    def _head_current(self) -> HeadObjectOutputTypeDef | None:
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

    def describe(self) -> SourceDescription:
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
        if self._whole is not None:
            return self._whole[start:end]
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

    def _guard(self, current: bool) -> dict[str, Any]:
        """The announced version; or, when ``current`` or no version is known, the key's current
        one on condition of the announced eTag."""
        ref = self.ref
        if ref.version_id and not current:
            return {"VersionId": ref.version_id}
        return {"IfMatch": f'"{ref.etag}"'} if ref.etag else {}


def _total_size(response: GetObjectOutputTypeDef) -> int:
    """The object's size: the total of ``Content-Range`` (``bytes 0-1023/4096``), or the length of a
    whole body where the server sent one (a store that ignores ranges)."""
    content_range = response.get("ContentRange")
    return int(content_range.rpartition("/")[2]) if content_range else response["ContentLength"]


def _real_version(version_id: str | None) -> str | None:
    """S3 reports 'null' for objects written before versioning was enabled."""
    return None if version_id in (None, "null") else version_id
