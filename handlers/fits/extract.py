"""The read phase: a FITS stream to HDU documents and drawn thumbnails, nothing written yet.

HDUs are read one at a time (astropy's lazy loading), each header first looked at
through a bounded scan, each data unit checked to lie within the object, so that a
hostile file is refused by a named limit instead of exhausting time or memory.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from handlers.aws.observability import stage
from handlers.config import Settings, ThumbnailSettings
from handlers.deadline import Deadline
from handlers.documents import HduDocument
from handlers.errors import HduCountLimitError, IngestError
from handlers.fits.format import is_image, is_tile_compressed
from handlers.fits.opening import as_input_error, check_data_present, scan_header, uncompressed
from handlers.fits.thumbnails import Plan, Thumbnail, plan_thumbnail, reduce_image, render_png
from handlers.layout import thumbnail_key
from handlers.storage.interfaces import ByteStream, SourceStream
from handlers.threads.compute import exclusive_compute
from handlers.threads.thread_warnings import recorded

#: At most this many distinct astropy warnings are kept in a metadata document.
MAX_WARNINGS = 20
#: A 2-D tile-compressed image up to this size decompressed is decompressed in one call.
WHOLE_TILED_IMAGE_BYTES = 64 * 1024 * 1024


@dataclass
class Extraction:
    """What one object holds: its HDUs' documents and the thumbnails to write."""

    hdus: list[HduDocument] = field(default_factory=list)
    thumbnails: list[tuple[str, bytes]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    compression: str | None = None


def extract(reader: SourceStream, key: str, settings: Settings, deadline: Deadline) -> Extraction:
    """Read ``reader`` as FITS; raise an InputError naming what is wrong with it.

    Parameters:
        reader: the object's bytes; closed on return.
        key: the object's key, which names its thumbnails.
        settings: limits and thumbnail settings.
        deadline: checked between HDUs and between row blocks.

    A fault of the store is re-raised as itself even where astropy turned it into a
    warning or another exception (the reader remembers it), so that it is retried.
    """
    with reader, recorded() as caught:
        try:
            with uncompressed(reader, settings.limits.max_decompressed_bytes) as (stream, compression):
                # Once read, an object fetched in one GET is in memory: reading on waits on nothing.
                with exclusive_compute() if reader.held_whole else nullcontext():
                    # A decompressed copy is in memory: only the object itself is read ahead.
                    extraction = _walk(stream, key, settings, deadline, reader if stream is reader else None)
                extraction.compression = compression
        except IngestError:
            raise
        except Exception as exc:  # astropy signals bad bytes with many exception types
            if reader.fault is not None:
                raise reader.fault from exc
            raise as_input_error(exc) from exc
        if reader.fault is not None:
            raise reader.fault
    extraction.warnings = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))[:MAX_WARNINGS]
    return extraction


def _walk(
    stream: ByteStream, key: str, settings: Settings, deadline: Deadline, ranged: SourceStream | None
) -> Extraction:
    from astropy.io import fits

    from handlers.fits.hdu import describe_hdu

    limits = settings.limits
    size = stream.seek(0, 2)
    header_text = scan_header(stream, 0, limits.max_header_cards)
    stream.seek(0)
    hdul = fits.open(stream, memmap=False, lazy_load_hdus=True, cache=False)
    extraction = Extraction()
    index = 0
    while True:
        deadline.check(f"reading HDU {index}")
        try:
            hdu = hdul[index]
        except IndexError:
            return extraction
        if index >= limits.max_hdus:
            raise HduCountLimitError(f"the file has more than MAX_HDUS ({limits.max_hdus:,}) HDUs")
        check_data_present(hdu, index, size)
        doc = describe_hdu(index, hdu, header_text)
        if is_image(type(hdu).__name__):
            if len(extraction.thumbnails) < limits.max_thumbnails:
                with stage("thumbnail"):
                    thumbnail = draw_thumbnail(hdu, settings.thumbnails, deadline, ranged)
                if thumbnail is not None:
                    doc["thumbnail"] = name = thumbnail_key(key, index, hdu.name)
                    doc["preview"] = thumbnail.preview
                    extraction.thumbnails.append((name, thumbnail.png))
            else:
                doc["preview"] = {"skipped": f"MAX_THUMBNAILS ({limits.max_thumbnails}) already drawn"}
        extraction.hdus.append(doc)
        following = _end_of(hdu)
        if following is None or following >= size:
            return extraction
        header_text = scan_header(stream, following, limits.max_header_cards)
        index += 1


def draw_thumbnail(
    hdu: Any, settings: ThumbnailSettings, deadline: Deadline, ranged: SourceStream | None
) -> Thumbnail | None:
    """Stream the image's shown plane through the reducer; None when it has no picture.

    ``ranged``: the stream the HDU is read from, to read ahead; None for a copy in memory.
    """
    shape = tuple(int(n) for n in hdu.shape)
    plan = plan_thumbnail(shape, settings)
    if plan is None:
        return None
    blank = hdu.header.get("BLANK") if "BSCALE" not in hdu.header else None
    with _reading_ahead(ranged, hdu, shape, plan):
        section: Any = hdu.section[...] if _decompress_whole(hdu, shape, plan) else hdu.section

        def read_rows(start: int, stop: int) -> Any:
            return section[(*plan.plane, slice(start, stop), slice(None))]

        image = reduce_image(
            read_rows, shape[-2], plan,
            blank=blank if isinstance(blank, int) else None,
            tick=lambda: deadline.check(f"drawing the thumbnail of HDU {hdu.name or '?'}"),
        )
    png, preview = render_png(image, settings)
    preview.update({
        "plane": list(plan.plane) or None,
        "downsample": plan.factor,
        "reduction": "mean" if plan.factor > 1 else None,
        "rows_sampled": plan.rows_sampled if plan.rows_sampled < plan.factor else None,
        "source_shape": list(shape[-2:]),
    })
    return Thumbnail(png, preview)


def _decompress_whole(hdu: Any, shape: tuple[int, ...], plan: Plan) -> bool:
    """Whether to decompress a tile-compressed image in one call rather than row block by row block.

    astropy's whole-image path reads the heap at once and slices tiles out of it, where a
    section of rows reads each tile by itself, which costs more for a plane of many tiles
    (docs/measurements.md).  Only for a 2-D image read whole, up to WHOLE_TILED_IMAGE_BYTES decompressed.
    """
    if not is_tile_compressed(type(hdu).__name__) or len(shape) != 2 or plan.rows_sampled < plan.factor:
        return False
    return _plane_bytes(hdu, shape) <= WHOLE_TILED_IMAGE_BYTES


def _reading_ahead(
    stream: SourceStream | None, hdu: Any, shape: tuple[int, ...], plan: Plan
) -> AbstractContextManager[Any]:
    """Have the reader fetch ahead the bytes the reducer is about to go through in order.

    Those are the shown plane of a plain image, or the tile table and heap of a 2-D
    tile-compressed one (its tiles are read one by one, in the heap's order).  Nothing is
    read ahead when rows are sampled (most of the plane is skipped), for a tile-compressed
    cube (its plane's tiles are a part of the heap that the header does not locate), or
    when there is no ranged stream (a decompressed copy in memory).
    """
    info = hdu.fileinfo()
    if stream is None or info is None or plan.rows_sampled < plan.factor:
        return nullcontext()
    data_start = int(info["datLoc"])
    if is_tile_compressed(type(hdu).__name__):
        if len(shape) > 2:
            return nullcontext()
        return stream.streaming(data_start, data_start + int(info["datSpan"]))
    plane_bytes = _plane_bytes(hdu, shape)
    plane_index = int(np.ravel_multi_index(plan.plane, shape[:-2])) if plan.plane else 0
    plane_start = data_start + plane_index * plane_bytes
    return stream.streaming(plane_start, plane_start + plane_bytes)


def _plane_bytes(hdu: Any, shape: tuple[int, ...]) -> int:
    """Bytes of one plane of the image's pixels (its last two axes), at its BITPIX."""
    return shape[-2] * shape[-1] * abs(int(hdu.header["BITPIX"])) // 8


def _end_of(hdu: Any) -> int | None:
    """Where the next header starts; None for a non-standard HDU, which ends the file."""
    info = hdu.fileinfo() if hasattr(hdu, "fileinfo") else None
    return int(info["datLoc"]) + int(info["datSpan"]) if info else None
