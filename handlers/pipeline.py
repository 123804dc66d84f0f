"""One object through the whole job: headers and pixels in, thumbnails then metadata out.

Shared by the Lambda handler and the CLI.  Thumbnails are written as they are made and
the metadata document last, so its presence means every file it names exists.  A
problem of the input becomes an ``errors/`` record; a fault of the store propagates.
"""

from __future__ import annotations

import json
import logging
import time
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

from . import __version__
from .config import Settings, ThumbnailSettings
from .errors import IngestError, InputError, SourceChangedError
from .fitsread import as_input_error, check_data_present, uncompressed
from .layout import error_key, metadata_key, thumbnail_key
from .observability import stage
from .outputs import SOURCE_ETAG, SOURCE_VERSION, OutputRoot
from .s3io import RangeReader, ReadStats
from .thumbnails import Thumbnail, plan_thumbnail, reduce_image, render_png

logger = logging.getLogger(__name__)

#: At most this many distinct astropy warnings are kept in a metadata document.
MAX_WARNINGS = 20


class Source(Protocol):
    key: str
    stats: ReadStats

    def resolve(self) -> object: ...

    def describe(self) -> dict[str, Any]: ...

    def open(self) -> RangeReader: ...


@dataclass
class Outcome:
    """What happened to one object; logged, counted and summarised by the callers."""

    key: str
    status: str  # processed | rejected | skipped | superseded
    hdus: int = 0
    thumbnails: int = 0
    bytes_read: int = 0
    requests: int = 0
    duration_ms: float = 0.0
    error: dict[str, str] | None = None
    outputs: list[str] = field(default_factory=list)


def process(source: Source, out: OutputRoot, settings: Settings) -> Outcome:
    """Ingest ``source`` into ``out``; raises only for faults that a retry may cure."""
    started = time.perf_counter()
    outcome = _process(source, out, settings)
    outcome.bytes_read = source.stats.bytes_read
    outcome.requests = source.stats.requests
    outcome.duration_ms = round((time.perf_counter() - started) * 1000, 1)
    return outcome


def _process(source: Source, out: OutputRoot, settings: Settings) -> Outcome:
    key = source.key
    try:
        with stage("resolve"):
            source.resolve()
        described = source.describe()
        if described["etag"] and _already_done(out, key, described):
            return Outcome(key, "skipped")
        written: list[str] = []
        try:
            with stage("read"):
                hdus, caught, described["compression"] = _read(source, out, settings, written)
        except InputError as exc:
            return _reject(out, source, described, exc, written)
    except SourceChangedError as exc:
        logger.info("superseded: %s", exc)
        return Outcome(key, "superseded", error=_error_fields(exc))
    with stage("write"):
        document = {
            "source": described,
            "processor": _processor(source),
            "hdus": hdus,
            "summary": _summary(hdus),
            "warnings": caught,
        }
        tags = {SOURCE_ETAG: described["etag"] or "", SOURCE_VERSION: described["version_id"] or ""}
        out.put(metadata_key(key), _json(document), "application/json", tags)
        out.delete(error_key(key))
    thumbnails = sum(1 for hdu in hdus if hdu.get("thumbnail"))
    return Outcome(key, "processed", hdus=len(hdus), thumbnails=thumbnails,
                   outputs=[*written, metadata_key(key)])


def _read(
    source: Source, out: OutputRoot, settings: Settings, written: list[str]
) -> tuple[list[dict[str, Any]], list[str], str | None]:
    """Every HDU's document, writing each thumbnail as soon as it is drawn."""
    from astropy.io import fits

    from .metadata import describe_hdu

    reader = source.open()
    with reader, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with uncompressed(reader, settings.limits.max_decompressed_bytes) as (stream, compression):
                hdul = fits.open(stream, memmap=False, lazy_load_hdus=True, cache=False)
                hdus: list[dict[str, Any]] = []
                for index, hdu in enumerate(hdul):
                    if compression is None:
                        check_data_present(hdu, index, reader.size)
                    doc = describe_hdu(index, hdu)
                    thumbnail = _thumbnail(hdu, settings.thumbnails)
                    if thumbnail is not None:
                        key = thumbnail_key(source.key, index, hdu.name)
                        out.put(key, thumbnail.png, "image/png")
                        written.append(key)
                        doc["thumbnail"], doc["preview"] = key, thumbnail.preview
                    hdus.append(doc)
        except IngestError:
            raise
        except Exception as exc:  # astropy signals bad bytes with many exception types
            if reader.fault is not None:
                raise reader.fault from exc
            raise as_input_error(exc) from exc
        if reader.fault is not None:
            raise reader.fault
    return hdus, _distinct_messages(caught), compression


def _thumbnail(hdu: Any, settings: ThumbnailSettings) -> Thumbnail | None:
    """Stream the image's shown plane through the reducer; None for non-images."""
    from astropy.io.fits import CompImageHDU, GroupsHDU, ImageHDU, PrimaryHDU

    if isinstance(hdu, GroupsHDU) or not isinstance(hdu, (PrimaryHDU, ImageHDU, CompImageHDU)):
        return None
    shape = tuple(int(n) for n in hdu.shape)
    plan = plan_thumbnail(shape, settings)
    if plan is None:
        return None
    with stage("thumbnail"):
        section = hdu.section

        def read_rows(start: int, stop: int) -> Any:
            return section[(*plan.plane, slice(start, stop), slice(None))]

        blank = hdu.header.get("BLANK") if "BSCALE" not in hdu.header else None
        image = reduce_image(read_rows, shape[-2], plan, blank if isinstance(blank, int) else None)
        png, preview = render_png(image, settings)
    preview.update(
        plane=list(plan.plane) or None,
        downsample=plan.factor,
        reduction="mean" if plan.factor > 1 else None,
        source_shape=list(shape[-2:]),
    )
    return Thumbnail(png, preview)


def _already_done(out: OutputRoot, key: str, described: dict[str, Any]) -> bool:
    recorded = out.recorded_source(metadata_key(key))
    return recorded is not None and recorded == {
        "etag": described["etag"] or "",
        "version_id": described["version_id"] or "",
    }


def _reject(
    out: OutputRoot, source: Source, described: dict[str, Any], exc: InputError, written: list[str]
) -> Outcome:
    """Record why the object was refused, and leave no outputs of it that claim otherwise."""
    record = {"source": described, "error": _error_fields(exc), "processor": _processor(source)}
    with stage("write-error"):
        out.put(error_key(source.key), _json(record), "application/json")
        for key in [*written, metadata_key(source.key)]:
            out.delete(key)
    logger.info("rejected %s: %s", source.key, exc)
    return Outcome(source.key, "rejected", error=record["error"], outputs=[error_key(source.key)])


def _summary(hdus: list[dict[str, Any]]) -> dict[str, Any]:
    from .summary import observation_summary

    return observation_summary(hdus)


def _processor(source: Source) -> dict[str, Any]:
    return {
        "name": "fits-ingest",
        "version": __version__,
        "processed_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "bytes_read": source.stats.bytes_read,
        "requests": source.stats.requests,
    }


def _error_fields(exc: Exception) -> dict[str, str]:
    return {"class": type(exc).__name__, "message": str(exc)}


def _distinct_messages(caught: list[warnings.WarningMessage]) -> list[str]:
    messages = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
    return messages[:MAX_WARNINGS]


def _json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, allow_nan=False, ensure_ascii=False, indent=1).encode()
