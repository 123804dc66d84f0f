"""Pure: an image's pixels, streamed in row blocks, to a PNG preview and its recipe.

The image is reduced while it streams: each block of rows is averaged down by an
integer factor (NaN-aware: a tile's mean of its finite pixels), so memory holds one
block and the small result, whatever the image's size.  The stretch limits are then
taken on the reduced image with astropy.visualization, and Pillow writes the PNG.
FITS row 0 is drawn at the bottom, as astronomers display images.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from handlers.config import ThumbnailSettings
from handlers.documents import Preview

ReadRows = Callable[[int, int], np.ndarray]

#: Stretch parameters, recorded in the preview so the picture can be reproduced.
STRETCH_PARAMETERS: dict[str, dict[str, float]] = {
    "linear": {},
    "sqrt": {},
    "log": {"a": 1000.0},
    "asinh": {"a": 0.1},
}
CONSTANT_GREY = 128


@dataclass(frozen=True)
class Plan:
    """Which plane is shown, how much it is reduced, and how many rows are read at once."""

    plane: tuple[int, ...]
    factor: int
    height: int
    width: int
    rows_per_block: int
    #: Rows read of each ``factor`` rows: all of them, unless the plane is over ``max_pixels``.
    rows_sampled: int


@dataclass(frozen=True)
class Thumbnail:
    png: bytes
    preview: Preview


def plan_thumbnail(shape: Sequence[int], settings: ThumbnailSettings) -> Plan | None:
    """The reduction for an image of ``shape`` (numpy order); None if there is nothing to draw."""
    if len(shape) < 2 or any(n <= 0 for n in shape):
        return None
    ny, nx = shape[-2], shape[-1]
    factor = max(1, math.ceil(max(ny, nx) / settings.max_size))
    sampled = factor if ny * nx <= settings.max_pixels else max(1, factor * settings.max_pixels // (ny * nx))
    rows = max(1, settings.block_bytes // (factor * nx * 8)) * factor
    return Plan(
        plane=tuple(n // 2 for n in shape[:-2]),
        factor=factor,
        height=math.ceil(ny / factor),
        width=math.ceil(nx / factor),
        rows_per_block=rows,
        rows_sampled=min(sampled, factor),
    )


def reduce_image(
    read_rows: ReadRows, ny: int, plan: Plan, blank: int | None = None, tick: Callable[[], None] = lambda: None
) -> np.ndarray:
    """Block-mean of rows ``[0, ny)`` read through ``read_rows(start, stop)``, one block at a time.

    ``tick`` runs before each read (the caller checks its deadline there).
    """
    out = np.empty((plan.height, plan.width), dtype=np.float64)
    for start, stop, rows_per_tile in _row_blocks(ny, plan):
        tick()
        block = np.asarray(read_rows(start, stop))
        if blank is not None and block.dtype.kind in "iu":
            block = np.where(block == blank, np.nan, block)
        first = start // plan.factor
        reduced = block_mean(block, plan.factor, rows_per_tile)
        out[first : first + reduced.shape[0]] = reduced
    return out


def _row_blocks(ny: int, plan: Plan) -> Iterator[tuple[int, int, int]]:
    """(start, stop, rows per tile) of each read.

    Normally whole tiles, many at a time.  A plane over the pixel budget is sampled: of
    each ``factor`` rows only the first ``rows_sampled`` are read, one tile row per read,
    so the bytes read shrink in proportion.
    """
    if plan.rows_sampled == plan.factor:
        for start in range(0, ny, plan.rows_per_block):
            yield start, min(ny, start + plan.rows_per_block), plan.factor
    else:
        for start in range(0, ny, plan.factor):
            stop = min(ny, start + plan.rows_sampled)
            yield start, stop, stop - start


def block_mean(block: np.ndarray, factor: int, rows_per_tile: int | None = None) -> np.ndarray:
    """Mean of the finite pixels of each tile of ``rows_per_tile`` x ``factor`` (NaN where none are).

    Tiles at the right and bottom edges may be smaller.  Sums accumulate in float64
    without a float64 copy of the block; an all-finite block (the usual case) needs no
    mask at all.
    """
    fy = rows_per_tile or factor
    if factor == fy == 1:
        return np.where(np.isfinite(block), block, np.nan)
    h, w = block.shape
    rows, cols = np.arange(0, h, fy), np.arange(0, w, factor)
    finite = np.isfinite(block)
    if finite.all():
        values = block
        counts = np.outer(np.diff(rows, append=h), np.diff(cols, append=w))
    else:
        values = np.where(finite, block, 0)
        counts = _tile_sums(finite, rows, cols, np.int64)
    sums = _tile_sums(values, rows, cols, np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / counts, np.nan)


def _tile_sums(values: np.ndarray, rows: np.ndarray, cols: np.ndarray, dtype: type) -> np.ndarray:
    """Sums over the tiles that start at ``rows`` x ``cols``, accumulated in ``dtype``."""
    return np.add.reduceat(np.add.reduceat(values, cols, axis=1, dtype=dtype), rows, axis=0)


def render_png(image: np.ndarray, settings: ThumbnailSettings) -> tuple[bytes, Preview]:
    """8-bit PNG of ``image`` (row 0 at the bottom) and the limits used to draw it.

    NaN pixels are transparent (a grey+alpha PNG) so they cannot be mistaken for sky.
    """
    from PIL import Image

    finite = np.isfinite(image)
    interval = settings.interval
    vmin, vmax = _limits(image[finite], settings) if finite.any() else (None, None)
    if vmin is not None and vmax is not None and vmax <= vmin:
        # The interval collapsed (e.g. ZScale on an image that is mostly one value):
        # the full range still shows whatever structure there is.
        interval = "minmax"
        vmin, vmax = float(image[finite].min()), float(image[finite].max())
    if vmin is None or vmax is None:
        grey = np.zeros(image.shape, dtype=np.uint8)
    elif vmax > vmin:
        grey = _stretch(image, vmin, vmax, settings.stretch)
    else:
        grey = np.full(image.shape, CONSTANT_GREY, dtype=np.uint8)
    grey[~finite] = 0
    has_nan = not finite.all()
    pixels = np.dstack([grey, finite.astype(np.uint8) * 255]) if has_nan else grey
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels[::-1])).save(buffer, format="PNG")
    preview: Preview = {
        "interval": interval,
        "percentile": settings.percentile if interval == "percentile" else None,
        "vmin": vmin,
        "vmax": vmax,
        "stretch": settings.stretch,
        "stretch_parameters": STRETCH_PARAMETERS[settings.stretch],
        "mode": "LA" if has_nan else "L",
        "nan_fraction": float(1.0 - finite.mean()),
        "width": int(image.shape[1]),
        "height": int(image.shape[0]),
        "origin": "lower",
    }
    return buffer.getvalue(), preview


def enlargement(height: int, width: int, settings: ThumbnailSettings) -> int:
    """The whole factor an image of ``height`` x ``width`` is enlarged by: until its longest side reaches
    ``min_size`` (THUMBNAIL_MIN_SIZE), never past ``max_size``; 1 for an image as large already."""
    longest = max(height, width)
    if longest >= settings.min_size:
        return 1
    return max(1, min(math.ceil(settings.min_size / longest), settings.max_size // longest))


def enlarged(png: bytes, factor: int) -> bytes:
    """The PNG with each pixel repeated ``factor`` times each way (nearest-neighbour: no pixel invented)."""
    from PIL import Image

    picture = Image.open(io.BytesIO(png))
    buffer = io.BytesIO()
    picture.resize((picture.width * factor, picture.height * factor), Image.Resampling.NEAREST).save(
        buffer, format="PNG")
    return buffer.getvalue()


def _limits(values: np.ndarray, settings: ThumbnailSettings) -> tuple[float, float]:
    from astropy.visualization import PercentileInterval, ZScaleInterval

    interval = (
        ZScaleInterval() if settings.interval == "zscale" else PercentileInterval(settings.percentile)
    )
    vmin, vmax = interval.get_limits(values)
    return float(vmin), float(vmax)


def _stretch(image: np.ndarray, vmin: float, vmax: float, name: str) -> np.ndarray:
    from astropy.visualization import AsinhStretch, LinearStretch, LogStretch, SqrtStretch

    stretch = {
        "linear": LinearStretch,
        "sqrt": SqrtStretch,
        "log": LogStretch,
        "asinh": AsinhStretch,
    }[name](**STRETCH_PARAMETERS[name])
    with np.errstate(invalid="ignore"):
        scaled = np.clip((image - vmin) / (vmax - vmin), 0.0, 1.0)
    scaled = np.nan_to_num(stretch(scaled, clip=True), nan=0.0)
    return np.round(scaled * 255).astype(np.uint8)
