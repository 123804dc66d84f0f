"""One object through the whole job: read everything, then write thumbnails and metadata last.

Shared by the Lambda handler and the CLI.  Nothing is written until the object has been
read whole and is known to be still the current version, so an outdated or failing run
leaves nothing behind; the metadata document goes last, so its presence means every
file it names exists.  A problem of the input becomes an ``errors/`` record; a fault of
the store propagates.
"""

from __future__ import annotations

import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from . import __version__
from .config import LimitSettings, Settings
from .deadline import Deadline
from .errors import IngestError, InputError, ObjectSizeLimitError, SourceChangedError
from .extract import Extraction, extract
from .layout import error_key, metadata_key, thumbnail_prefix
from .observability import stage
from .outputs import SOURCE_ETAG, SOURCE_VERSION, OutputRoot
from .s3io import RangeReader, ReadStats
from .threads import kept_pool

logger = logging.getLogger(__name__)


class Source(Protocol):
    key: str
    stats: ReadStats
    notified: bool  # an S3 notification announced this version as just written

    def resolve(self) -> object: ...

    def describe(self) -> dict[str, Any]: ...

    def open(self) -> RangeReader: ...

    def is_current(self) -> bool: ...

    def exists(self) -> bool: ...


@dataclass
class Outcome:
    """What happened to one object; logged, counted and summarised by the callers."""

    key: str
    status: str  # processed | rejected | skipped | superseded | removed | kept
    hdus: int = 0
    thumbnails: int = 0
    bytes_read: int = 0
    requests: int = 0
    duration_ms: float = 0.0
    error: dict[str, str] | None = None
    outputs: list[str] = field(default_factory=list)


def process(source: Source, out: OutputRoot, settings: Settings, deadline: Deadline | None = None) -> Outcome:
    """Ingest ``source`` into ``out``; raises only for faults that a retry may cure."""
    started = time.perf_counter()
    try:
        outcome = _process(source, out, settings, deadline or Deadline())
    except SourceChangedError as exc:
        logger.info("superseded: %s", exc)
        outcome = Outcome(source.key, "superseded", error=_error_fields(exc))
    outcome.bytes_read = source.stats.bytes_read
    outcome.requests = source.stats.requests
    outcome.duration_ms = round((time.perf_counter() - started) * 1000, 1)
    return outcome


def remove(source: Source, out: OutputRoot) -> Outcome:
    """An object was deleted: remove what was derived from it, unless the key exists again."""
    if source.exists():
        return Outcome(source.key, "kept")
    removed = _remove_derived(out, source.key, keep_error=False)
    return Outcome(source.key, "removed", outputs=removed)


def _process(source: Source, out: OutputRoot, settings: Settings, deadline: Deadline) -> Outcome:
    key = source.key
    with stage("resolve"):
        source.resolve()
    described = source.describe()
    earlier: bool | None = None  # an earlier run's metadata exists; None: the metadata's write will tell
    if _asks_first(source, described, settings):
        recorded = out.recorded_source(metadata_key(key))
        if described["etag"] and recorded == _identity(described):
            return Outcome(key, "skipped")
        earlier = recorded is not None
    try:
        _check_size(described, settings.limits)
        with stage("read"):
            extraction = extract(source.open(), key, settings, deadline)
    except InputError as exc:
        return _reject(out, source, described, exc, earlier)
    with stage("write"):
        if not source.is_current():
            raise SourceChangedError(f"{key} was replaced while it was read; its newer version wins")
        described["compression"] = extraction.compression
        written = _write(out, source, described, extraction, earlier, pool=_writers(settings))
    return Outcome(key, "processed", hdus=len(extraction.hdus), thumbnails=len(extraction.thumbnails),
                   outputs=written)


def _asks_first(source: Source, described: dict[str, Any], settings: Settings) -> bool:
    """Whether to look for an earlier run's metadata (one HEAD) before reading the object.

    A version that a notification announced as just written has almost surely not been
    processed; when it is small enough to be read in one GET, it is read straight away,
    and the conditional write of its metadata tells whether an earlier document existed
    (a rare re-delivery is then processed again).  A re-run (Batch Operations, URIs, the
    CLI) or a larger object is checked first, so that one already done is skipped unread.
    """
    return not (source.notified and settings.reads.fetches_whole(described["size"] or 0))


def _write(
    out: OutputRoot,
    source: Source,
    described: dict[str, Any],
    extraction: Extraction,
    earlier: bool | None,
    pool: ThreadPoolExecutor,
) -> list[str]:
    """Thumbnails and the DELETE of an earlier error record (side by side), then the metadata
    document; on a fault, take back the thumbnails written, unless an earlier document may
    name them (it must not point at missing files; the retry writes them all again).

    ``earlier``: a metadata document of an earlier run existed (None: not known yet), so
    some of its thumbnails may have no counterpart now (one listing finds them).
    """
    key = source.key
    take_back = earlier is False
    written = _put_thumbnails_drop_error(out, extraction.thumbnails, error_key(key), pool, take_back)
    try:
        document = {
            "source": described,
            "processor": _processor(source),
            "hdus": extraction.hdus,
            "summary": _summary(extraction.hdus),
            "warnings": extraction.warnings,
        }
        identity = _identity(described)
        tags = {SOURCE_ETAG: identity["etag"], SOURCE_VERSION: identity["version_id"]}
        earlier = _put_metadata(out, metadata_key(key), _json(document), tags, earlier)
    except IngestError:
        if take_back:
            _take_back(out, written)
        raise
    written.append(metadata_key(key))
    if earlier:
        for stale in set(out.children(thumbnail_prefix(key))) - set(written):
            out.delete(stale)
    return written


def _put_metadata(out: OutputRoot, key: str, body: bytes, tags: dict[str, str], earlier: bool | None) -> bool:
    """Write the metadata document; return whether an earlier run's was there.

    Where that is not known yet, the document is first written on condition that none
    exists (S3's ``If-None-Match: *``), and only where one does is it written over.
    """
    if earlier is None:
        if out.put_if_absent(key, body, "application/json", tags):
            return False
        earlier = True
    out.put(key, body, "application/json", tags)
    return earlier


def _put_thumbnails_drop_error(
    out: OutputRoot, thumbnails: list[tuple[str, bytes]], error: str, pool: ThreadPoolExecutor, take_back: bool
) -> list[str]:
    """PUT every thumbnail, and DELETE ``error`` (an earlier version's record), all side by side.

    On a fault, take back the thumbnails written (if ``take_back``) and raise it.  The error
    record goes before the metadata is written: it describes a version older than this one either way.
    The DELETE is sent from this thread, which may wait there for the batch's other objects
    (a bucket's deletes are shared); the pool's threads never wait on another object.
    """
    puts = [(key, pool.submit(out.put, key, png, "image/png")) for key, png in thumbnails]
    try:
        out.delete(error)
        faults: list[BaseException] = []
    except IngestError as exc:
        faults = [exc]
    faults += [put.exception() for _, put in puts if put.exception() is not None]
    if faults:
        if take_back:
            _take_back(out, [key for key, put in puts if put.exception() is None])
        raise faults[0]
    return [key for key, _ in puts]


def _writers(settings: Settings) -> ThreadPoolExecutor:
    """The threads that write outputs, shared by a batch's objects: READ_CONCURRENCY writes each."""
    return kept_pool("write", settings.batch_concurrency * settings.reads.concurrency)


def _take_back(out: OutputRoot, written: list[str]) -> None:
    """Best effort: the store is failing, so deleting may fail too; the metadata was never written."""
    for key in written:
        try:
            out.delete(key)
        except IngestError as exc:
            logger.warning("could not take back %s: %s", key, exc)


def _reject(
    out: OutputRoot, source: Source, described: dict[str, Any], exc: InputError, earlier: bool | None
) -> Outcome:
    """Record why the object was refused, and remove the outputs of an earlier version of it.

    ``earlier`` as for ``_write``; where it is not known, one HEAD asks (rejections are rare).
    """
    record = {"source": described, "error": _error_fields(exc), "processor": _processor(source)}
    with stage("write-error"):
        out.put(error_key(source.key), _json(record), "application/json")
        if earlier is None:
            earlier = out.recorded_source(metadata_key(source.key)) is not None
        if earlier:
            _remove_derived(out, source.key, keep_error=True)
    logger.info("rejected %s: %s", source.key, exc)
    return Outcome(source.key, "rejected", error=record["error"], outputs=[error_key(source.key)])


def _remove_derived(out: OutputRoot, key: str, keep_error: bool) -> list[str]:
    derived = [metadata_key(key), *out.children(thumbnail_prefix(key))]
    if not keep_error:
        derived.append(error_key(key))
    for item in derived:
        out.delete(item)
    return derived


def _check_size(described: dict[str, Any], limits: LimitSettings) -> None:
    size = described.get("size") or 0
    if size > limits.max_object_bytes:
        raise ObjectSizeLimitError(
            f"the object has {size:,} bytes, over MAX_OBJECT_BYTES ({limits.max_object_bytes:,})"
        )


def _identity(described: dict[str, Any]) -> dict[str, str]:
    """What the metadata document records of its source, to recognise a re-delivery."""
    return {"etag": described["etag"] or "", "version_id": described["version_id"] or ""}


def _summary(hdus: list[dict[str, Any]]) -> dict[str, Any]:
    from .summary import observation_summary

    return observation_summary(hdus)


def _processor(source: Source) -> dict[str, Any]:
    return {
        "name": "fits-ingest",
        "version": __version__,
        "processed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "bytes_read": source.stats.bytes_read,
        "requests": source.stats.requests,
    }


def _error_fields(exc: Exception) -> dict[str, str]:
    return {"class": type(exc).__name__, "message": str(exc)}


def _json(document: dict[str, Any]) -> bytes:
    """Strict, compact JSON (the C encoder: an indented document takes the slow Python one)."""
    return json.dumps(document, allow_nan=False, ensure_ascii=False, separators=(",", ":")).encode()
