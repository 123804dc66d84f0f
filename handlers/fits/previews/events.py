"""Event lists (X-ray, gamma-ray): each event's coordinates binned into an image, drawn as images are.

The bins are squares of whole coordinate units covering the events read (not the TLMIN-TLMAX
range, in which a source is a dot), as many as fit ``THUMBNAIL_MAX_SIZE``; row 0 (the lowest y)
is at the bottom, as in any other preview.  Counts span decades (a bright source on a background
of single events), so they are drawn over their full range with the log stretch, whatever
THUMBNAIL_INTERVAL and THUMBNAIL_STRETCH say for images: ZScale of a mostly empty image is 0 to 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from handlers.config import ThumbnailSettings
from handlers.deadline import Deadline
from handlers.documents import PreviewAxis
from handlers.fits.previews import PreviewSkipped
from handlers.fits.previews.images import Thumbnail, render_png
from handlers.fits.previews.tables import read_columns
from handlers.storage.interfaces import ByteStream

EVENTS = "EVENTS"
#: Coordinate pairs of an event, preferred first: sky, detector, chip, raw (OGIP/93-003).
COORDINATES = (("X", "Y"), ("DETX", "DETY"), ("CHIPX", "CHIPY"), ("RAWX", "RAWY"))


def event_columns(name: str, hduclas1: object, names: Sequence[str]) -> tuple[str, str] | None:
    """The coordinate columns of an event list (EXTNAME or HDUCLAS1 ``EVENTS``); None if the HDU is none."""
    if EVENTS not in (name.strip().upper(), hduclas1.strip().upper() if isinstance(hduclas1, str) else None):
        return None
    upper = {n.upper(): n for n in names}
    return next(((upper[x], upper[y]) for x, y in COORDINATES if x in upper and y in upper), None)


def draw_events(
    hdu: Any, columns: tuple[str, str], stream: ByteStream, settings: ThumbnailSettings, deadline: Deadline
) -> Thumbnail:
    """The events' counts in square bins, as an image."""
    x_name, y_name = columns
    read = read_columns(hdu, columns, stream, settings.read_bytes, deadline)
    x, y = read.values[x_name], read.values[y_name]
    kept = np.isfinite(x) & np.isfinite(y)
    if not kept.any():
        raise PreviewSkipped(f"no event read has finite {x_name} and {y_name}")
    x, y = x[kept], y[kept]
    x_lo, y_lo = math.floor(x.min()), math.floor(y.min())
    span = max(x.max() - x_lo, y.max() - y_lo)
    size = float(max(1, math.ceil(span / settings.max_size)))
    nx, ny = int((x.max() - x_lo) // size) + 1, int((y.max() - y_lo) // size) + 1
    counts, _, _ = np.histogram2d(y, x, bins=(ny, nx), range=((y_lo, y_lo + ny * size), (x_lo, x_lo + nx * size)))
    png, preview = render_png(counts, replace(settings, interval="percentile", percentile=100.0, stretch="log"))
    x_axis: PreviewAxis = {"quantity": x_name.lower(), "unit": read.units[x_name], "source": f"column {x_name}",
                           "min": float(x_lo), "max": float(x_lo + nx * size)}
    y_axis: PreviewAxis = {"quantity": y_name.lower(), "unit": read.units[y_name], "source": f"column {y_name}",
                           "min": float(y_lo), "max": float(y_lo + ny * size)}
    preview.update({"kind": "events", "x": x_axis, "y": y_axis, "bin_size": size, "events": int(kept.sum()),
                    "table_rows_read": read.rows_read, "table_rows": read.rows})
    return Thumbnail(png, preview)
