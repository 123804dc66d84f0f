"""One object through the whole job: read everything, then write thumbnails and metadata last.

Shared by the Lambda handler and the CLI.  Nothing is written until the object has been
read whole and is known to be still the current version, so an outdated or failing run
leaves nothing behind; the metadata document goes last, so its presence means every
file it names exists.  The document is made and encoded as strict JSON before the first
write, so that everything wrong with the input, its description included, is known
while nothing is written yet.  A problem of the input becomes an ``errors/`` record; a
fault of the store propagates, after what was written is taken back.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum, StrEnum
from functools import partial
from typing import Any

from handlers import __version__
from handlers.config import DeploymentSettings, LimitSettings, Settings
from handlers.deadline import Deadline
from handlers.documents import (
    ErrorFields,
    ErrorRecord,
    MetadataDocument,
    Processor,
    SourceDescription,
    SourceIdentity,
)
from handlers.errors import (
    InputError,
    MemoryLimitError,
    ObjectSizeLimitError,
    OutputKeyTooLongError,
    SourceChangedError,
    UndescribableFitsError,
)
from handlers.fits.extract import Extraction, extract
from handlers.layout import error_key, metadata_key, thumbnail_prefix
from handlers.stages import stage
from handlers.storage.interfaces import SOURCE_ETAG, SOURCE_VERSION, OutputRoot, Source
from handlers.threads.pools import persistent_pool

logger = logging.getLogger(__name__)


class Status(StrEnum):
    """What happened to one object (the ``status`` of logs, metrics and the CLI's lines)."""

    PROCESSED = "processed"
    REJECTED = "rejected"  # an errors/ record says why
    SKIPPED = "skipped"  # this version's metadata was already there
    SUPERSEDED = "superseded"  # a newer version replaced it while it was read
    REMOVED = "removed"  # deleted: its outputs removed
    KEPT = "kept"  # a deletion announced, but the key exists again
    FAILED = "failed"  # a fault of the store (the CLI's answer; the Lambda raises it for a retry)


class EarlierRun(Enum):
    """What is known of an earlier run's metadata document for the key."""

    UNKNOWN = "unknown"  # not asked: the conditional write of the metadata will tell
    ABSENT = "absent"
    PRESENT = "present"


@dataclass
class Outcome:
    """What happened to one object; logged, counted and summarised by the callers."""

    key: str
    status: Status
    hdus: int = 0
    thumbnails: int = 0
    bytes_read: int = 0
    requests: int = 0
    duration_ms: float = 0.0
    error: ErrorFields | None = None
    outputs: list[str] = field(default_factory=list)
    #: The metadata document's ``warnings`` (astropy's, and the summary's notes).
    warnings: list[str] = field(default_factory=list)


def process(source: Source, out: OutputRoot, settings: Settings, deadline: Deadline | None = None) -> Outcome:
    """Ingest ``source`` into ``out``; raise only for faults that a retry may cure.

    Parameters:
        source: the object to read (an S3 object version or a local file).
        out: the output root that receives thumbnails, metadata or the error record.
        settings: limits, read and thumbnail settings.
        deadline: the invocation's remaining time (none: unlimited).

    Returns the ``Outcome``; raises ``TransientError`` (retry) or ``ConfigurationError``.
    """
    started = time.perf_counter()
    try:
        outcome = _process(source, out, settings, deadline or Deadline())
    except SourceChangedError as exc:
        logger.info("superseded: %s", exc)
        outcome = Outcome(source.key, Status.SUPERSEDED, error=error_fields(exc))
    outcome.bytes_read = source.stats.bytes_read
    outcome.requests = source.stats.requests
    outcome.duration_ms = round((time.perf_counter() - started) * 1000, 1)
    return outcome


def remove(source: Source, out: OutputRoot) -> Outcome:
    """An object was deleted: remove what was derived from it, unless the key exists again."""
    if source.exists():
        return Outcome(source.key, Status.KEPT)
    removed = _remove_derived(out, source.key, keep_error=False)
    return Outcome(source.key, Status.REMOVED, outputs=removed)


def _process(source: Source, out: OutputRoot, settings: Settings, deadline: Deadline) -> Outcome:
    key = source.key
    with stage("resolve"):
        source.resolve()
    description = source.describe()
    earlier = EarlierRun.UNKNOWN
    if _checks_for_earlier_run(source, description, settings):
        recorded = out.recorded_source(metadata_key(key))
        if description["etag"] and recorded == _identity(description):
            return Outcome(key, Status.SKIPPED)
        earlier = EarlierRun.ABSENT if recorded is None else EarlierRun.PRESENT
    try:
        out.check_keys([metadata_key(key)])  # every output key is known before the first is written
        _check_size(description, settings.limits)
        with stage("read"):
            extraction = extract(source.open(), key, settings, deadline)
        out.check_keys(name for name, _ in extraction.thumbnails)
    except InputError as exc:
        return _reject(out, source, description, exc, earlier)
    with stage("write"):
        if not source.is_current():
            raise SourceChangedError(f"{key} was replaced while it was read; its newer version wins")
        description["compression"] = extraction.compression
        try:
            body, warnings = _metadata_body(source, description, extraction, settings.deployment)
        except InputError as exc:
            return _reject(out, source, description, exc, earlier)
        try:
            written = _write(out, key, extraction.thumbnails, body, _identity(description), earlier, _writers(settings))
        except OutputKeyTooLongError as exc:  # the store holds shorter keys than S3: it said so
            return _reject(out, source, description, exc, earlier)
    return Outcome(key, Status.PROCESSED, hdus=len(extraction.hdus), thumbnails=len(extraction.thumbnails),
                   outputs=written, warnings=warnings)


def _checks_for_earlier_run(source: Source, description: SourceDescription, settings: Settings) -> bool:
    """Whether to look for an earlier run's metadata (one HEAD) before reading the object.

    An object small enough to be read in one GET is read by a request sent anyway (a
    notification's object by its first; a URI's by the GET that learns its size), so
    asking first would cost a request on every first run to spare only the writes of a
    re-run: it is processed, and the conditional write of its metadata tells whether an
    earlier document existed (a re-run or re-delivery is then processed again, to the same
    outputs).  A larger object is checked first, so that one already done is skipped unread.
    """
    return not source.reads_whole_in_one_request(description["size"] or 0)


def _metadata_body(
    source: Source, description: SourceDescription, extraction: Extraction, deployment: DeploymentSettings
) -> tuple[bytes, list[str]]:
    """The metadata document as the bytes to write, and its warnings; an InputError if the input
    cannot be described.

    Everything the input contributes is strict JSON by now (``fits.json_values``; the
    summary's numbers are finite or null), and this is where that is held to: a value that
    still does not encode, or a summary that fails, refuses the input with a record, before
    anything is written.  The same bytes would fail the same way, so a retry cannot help.
    """
    from handlers.obscore.record import observation_summary

    try:
        notes: list[str] = []
        summary = observation_summary(extraction.hdus, notes, source=description, deployment=deployment)
        warnings = [*extraction.warnings, *notes]
        document: MetadataDocument = {
            "source": description,
            "processor": _processor(source),
            "hdus": extraction.hdus,
            "summary": summary,
            "warnings": warnings,
        }
        return _json(document), warnings
    except MemoryError as exc:
        raise MemoryLimitError(f"describing the file needs more memory than the function has ({exc!r})") from exc
    except Exception as exc:  # whatever the encoder or astropy raise: a property of these bytes
        raise UndescribableFitsError(
            f"the file cannot be described as a strict-JSON document: {type(exc).__name__}: {exc}"
        ) from exc


def _write(
    out: OutputRoot,
    key: str,
    thumbnails: list[tuple[str, bytes]],
    body: bytes,
    identity: SourceIdentity,
    earlier: EarlierRun,
    pool: ThreadPoolExecutor,
) -> list[str]:
    """Thumbnails and the DELETE of an earlier error record (concurrently), then the metadata
    document (``body``); on a fault of any class, delete the thumbnails written, unless an
    earlier document may name them (it must not point at missing files; the retry writes
    them all again), and raise it.

    Where an earlier document existed, some of its thumbnails may have no counterpart
    now (one listing finds them).
    """
    take_back = partial(_take_back, out, key, earlier=earlier)
    written = _put_thumbnails_and_delete_error(out, thumbnails, error_key(key), pool, take_back)
    try:
        tags = {SOURCE_ETAG: identity["etag"], SOURCE_VERSION: identity["version_id"]}
        found = _put_metadata(out, metadata_key(key), body, tags, earlier)
    except BaseException:  # not only the store's faults: nothing may point at thumbnails of no document
        take_back(written)
        raise
    written.append(metadata_key(key))
    if found is EarlierRun.PRESENT:
        for stale in set(out.children(thumbnail_prefix(key))) - set(written):
            out.delete(stale)
    return written


def _take_back(out: OutputRoot, key: str, written: list[str], earlier: EarlierRun) -> None:
    """After a fault, delete the thumbnails written, unless an earlier document may name them.

    Where that was not asked before (a small object goes straight to its conditional
    write), one HEAD asks now: faults are rare.  If it fails too, they stay, to be
    written again by the retry.
    """
    if earlier is EarlierRun.UNKNOWN and written:
        try:
            earlier = EarlierRun.ABSENT if out.recorded_source(metadata_key(key)) is None else EarlierRun.PRESENT
        except Exception as exc:
            logger.warning("could not ask for %s after a failed write: %s: %s", metadata_key(key),
                           type(exc).__name__, exc)
    if earlier is EarlierRun.ABSENT:
        _delete_written(out, written)


def _put_metadata(out: OutputRoot, key: str, body: bytes, tags: dict[str, str], earlier: EarlierRun) -> EarlierRun:
    """Write the metadata document; return whether an earlier run's was there.

    Where that is not known yet, the document is first written on condition that none
    exists (S3's ``If-None-Match: *``), and only where one does is it written over.
    """
    if earlier is EarlierRun.UNKNOWN:
        if out.put_if_absent(key, body, "application/json", tags):
            return EarlierRun.ABSENT
        earlier = EarlierRun.PRESENT
    out.put(key, body, "application/json", tags)
    return earlier


def _put_thumbnails_and_delete_error(
    out: OutputRoot,
    thumbnails: list[tuple[str, bytes]],
    error: str,
    pool: ThreadPoolExecutor,
    take_back: Callable[[list[str]], None],
) -> list[str]:
    """PUT every thumbnail and DELETE ``error`` (an earlier version's record), all concurrently.

    On a fault of any class, once every PUT is done, ``take_back`` the thumbnails written and raise it.
    The error record goes before the metadata is written: it describes a version older than this one
    either way.  The DELETE is sent from this thread, which may wait there for the batch's other objects
    (a bucket's deletes are batched); the pool's threads never wait on another object.
    """
    puts = [(key, pool.submit(out.put, key, png, "image/png")) for key, png in thumbnails]
    try:
        out.delete(error)
        faults: list[BaseException] = []
    except Exception as exc:  # the puts are waited for, and taken back, whatever the DELETE raised
        faults = [exc]
    faults += [fault for _, put in puts if (fault := put.exception()) is not None]
    if faults:
        take_back([key for key, put in puts if put.exception() is None])
        raise faults[0]
    return [key for key, _ in puts]


def _writers(settings: Settings) -> ThreadPoolExecutor:
    """The threads that write outputs, shared by a batch's objects: READ_CONCURRENCY writes each."""
    return persistent_pool("write", settings.batch_concurrency * settings.reads.concurrency)


def _delete_written(out: OutputRoot, written: list[str]) -> None:
    """Best effort: the writes are failing, so deleting may fail too; the metadata was never written.

    A failed delete is logged and the others are still tried: the fault to raise is the write's.
    """
    for key in written:
        try:
            out.delete(key)
        except Exception as exc:
            logger.warning("could not delete %s after a failed write: %s: %s", key, type(exc).__name__, exc)


def _reject(
    out: OutputRoot, source: Source, description: SourceDescription, exc: InputError, earlier: EarlierRun
) -> Outcome:
    """Record why the object was refused, and remove the outputs of an earlier version of it.

    Where it is not known whether an earlier run wrote metadata, one HEAD asks (rejections are rare).
    """
    record: ErrorRecord = {"source": description, "error": error_fields(exc), "processor": _processor(source)}
    with stage("write-error"):
        out.put(error_key(source.key), _json(record), "application/json")
        if earlier is EarlierRun.UNKNOWN:
            recorded = out.recorded_source(metadata_key(source.key))
            earlier = EarlierRun.ABSENT if recorded is None else EarlierRun.PRESENT
        if earlier is EarlierRun.PRESENT:
            _remove_derived(out, source.key, keep_error=True)
    logger.info("rejected %s: %s", source.key, exc)
    return Outcome(source.key, Status.REJECTED, error=record["error"], outputs=[error_key(source.key)])


def _remove_derived(out: OutputRoot, key: str, keep_error: bool) -> list[str]:
    derived = [metadata_key(key), *out.children(thumbnail_prefix(key))]
    if not keep_error:
        derived.append(error_key(key))
    for item in derived:
        out.delete(item)
    return derived


def _check_size(description: SourceDescription, limits: LimitSettings) -> None:
    size = description.get("size") or 0
    if size > limits.max_object_bytes:
        raise ObjectSizeLimitError(
            f"the object has {size:,} bytes, over MAX_OBJECT_BYTES ({limits.max_object_bytes:,})"
        )


def _identity(description: SourceDescription) -> SourceIdentity:
    return {"etag": description["etag"] or "", "version_id": description["version_id"] or ""}


def _processor(source: Source) -> Processor:
    return {
        "name": "fits-ingest",
        "version": __version__,
        "processed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "bytes_read": source.stats.bytes_read,
        "requests": source.stats.requests,
    }


def error_fields(exc: Exception) -> ErrorFields:
    """The ``error`` of records, logs and outcomes: the exception's class name and message."""
    return {"class": type(exc).__name__, "message": str(exc)}


def _json(document: Any) -> bytes:
    """Strict, compact JSON (the C encoder: an indented document takes the slow Python one)."""
    return json.dumps(document, allow_nan=False, ensure_ascii=False, separators=(",", ":")).encode()
