"""An image HDU's shown plane streamed through the reducer (``images``), read ahead where it lies in order."""

from __future__ import annotations

import math
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import numpy as np

from handlers.config import ThumbnailSettings
from handlers.deadline import Deadline
from handlers.fits.format import is_tile_compressed
from handlers.fits.previews import PreviewSkipped
from handlers.fits.previews.images import (
    Plan,
    Thumbnail,
    enlarged,
    enlargement,
    plan_thumbnail,
    reduce_image,
    render_png,
)
from handlers.storage.interfaces import SourceStream

#: A 2-D tile-compressed image up to this size decompressed is decompressed in one call.
WHOLE_TILED_IMAGE_BYTES = 64 * 1024 * 1024


def draw_thumbnail(
    hdu: Any, settings: ThumbnailSettings, deadline: Deadline, ranged: SourceStream | None
) -> Thumbnail:
    """Stream the image's shown plane through the reducer.

    ``ranged``: the stream the HDU is read from, to read ahead; None for a copy in memory.
    """
    shape = tuple(int(n) for n in hdu.shape)
    plan = plan_thumbnail(shape, settings)
    if plan is None:
        raise PreviewSkipped(f"no plane of two axes to draw in an image of shape {list(shape)}")
    blank = hdu.header.get("BLANK") if "BSCALE" not in hdu.header else None
    whole = _decompress_whole(hdu, shape, plan, settings.max_tile_bytes)
    with _reading_ahead(ranged, hdu, shape, plan):
        if whole:  # the plane decompressed once, its rows then reduced block by block
            deadline.check(f"decompressing the image of HDU {hdu.name or '?'}")
            pixels = hdu.section[(*plan.plane, slice(None), slice(None)) if plan.plane else ...]

            def read_rows(start: int, stop: int) -> Any:
                return pixels[start:stop]
        else:
            def read_rows(start: int, stop: int) -> Any:
                return hdu.section[(*plan.plane, slice(start, stop), slice(None))]

        image = reduce_image(
            read_rows, shape[-2], plan,
            blank=blank if isinstance(blank, int) else None,
            tick=lambda: deadline.check(f"drawing the thumbnail of HDU {hdu.name or '?'}"),
        )
    png, preview = render_png(image, settings)
    factor = enlargement(image.shape[0], image.shape[1], settings)
    if factor > 1:  # the limits are those of the image itself; its pixels are only repeated
        png = enlarged(png, factor)
        preview.update({"upsample": factor, "width": preview["width"] * factor, "height": preview["height"] * factor})
    preview.update({
        "plane": list(plan.plane) or None,
        "downsample": plan.factor,
        "reduction": "mean" if plan.factor > 1 else None,
        "rows_sampled": plan.rows_sampled if plan.rows_sampled < plan.factor else None,
        "source_shape": list(shape[-2:]),
    })
    return Thumbnail(png, preview)


def _decompress_whole(hdu: Any, shape: tuple[int, ...], plan: Plan, max_tile_bytes: int) -> bool:
    """Whether to decompress a tile-compressed image's plane in one call rather than row block by row block.

    astropy's whole-image path reads the heap at once and slices tiles out of it, where a
    section of rows reads each tile by itself, which costs more for a plane of many tiles
    (docs/measurements.md): so a 2-D image read whole, up to WHOLE_TILED_IMAGE_BYTES decompressed.
    And astropy decompresses every tile a read touches, whole: tiles taller than a read would be
    decompressed again for every read, so such a plane is decompressed once, up to ``max_tile_bytes``
    (MAX_TILE_BYTES); above it the preview is skipped, since no read of it costs less.
    """
    if not is_tile_compressed(type(hdu).__name__):
        return False
    sampled = plan.rows_sampled < plan.factor
    tile = [int(n) for n in hdu.tile_shape]  # numpy order, as the shape
    if tile[-2] > (plan.factor if sampled else plan.rows_per_block):
        depth = math.prod(min(t, n) for t, n in zip(tile[:-2], shape[:-2], strict=True))
        needed = _plane_bytes(hdu, shape) * depth
        if needed > max_tile_bytes:
            raise PreviewSkipped(
                f"its tiles of {tile[-2]:,} rows decompress to {needed:,} bytes at once, more than "
                f"MAX_TILE_BYTES ({max_tile_bytes:,})"
            )
        return True
    return len(shape) == 2 and not sampled and _plane_bytes(hdu, shape) <= WHOLE_TILED_IMAGE_BYTES


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
