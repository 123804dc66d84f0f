"""A binary table's columns read for a preview, within PREVIEW_READ_BYTES.

The rows' bytes are read straight from the stream and decoded with the table's own record
type, so that a preview costs the bytes it reads and no more: the whole table when it fits
the budget, otherwise SAMPLE_RUNS evenly spaced runs of consecutive rows that together do
(the document then says how many rows were read).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from handlers.config import ThumbnailSettings
from handlers.deadline import Deadline
from handlers.documents import PreviewAxis
from handlers.fits.previews import PreviewSkipped
from handlers.fits.previews.images import Thumbnail
from handlers.fits.previews.plots import MAX_SERIES, Series, draw_plot
from handlers.storage.interfaces import ByteStream

#: Runs of consecutive rows read of a table over the budget.
SAMPLE_RUNS = 64


@dataclass(frozen=True)
class TableColumns:
    """Columns as float64 (scaled, nulls NaN), and the rows they come from."""

    values: dict[str, np.ndarray]
    rows_read: int
    rows: int
    units: dict[str, str | None]


def read_columns(
    hdu: Any, names: Sequence[str], stream: ByteStream, budget: int, deadline: Deadline
) -> TableColumns:
    """The columns ``names`` of a binary table HDU, read from ``stream`` within ``budget`` bytes."""
    header = hdu.header
    row_bytes, rows = int(header["NAXIS1"]), int(header["NAXIS2"])
    columns = hdu.columns
    record = np.dtype(columns.dtype).newbyteorder(">")
    if record.itemsize != row_bytes:
        raise PreviewSkipped(f"its columns take {record.itemsize:,} bytes a row, but NAXIS1 is {row_bytes:,}")
    if row_bytes > budget:
        raise PreviewSkipped(f"one row takes {row_bytes:,} bytes, more than PREVIEW_READ_BYTES ({budget:,})")
    variable = [name for name in names if re.match(r"^\d*[PQ]", str(columns[name].format))]
    if variable:
        raise PreviewSkipped(f"its column {variable[0]} holds variable-length arrays (in the heap): not charted")
    start = int(hdu.fileinfo()["datLoc"])
    chunks = []
    for first, count in _runs(rows, row_bytes, budget):
        deadline.check(f"reading the rows of HDU {hdu.name or '?'} for its preview")
        stream.seek(start + first * row_bytes)
        raw = stream.read(count * row_bytes)
        if len(raw) < count * row_bytes:
            raise PreviewSkipped(f"its rows from {first:,} are cut short by the end of the object")
        chunks.append(np.frombuffer(raw, dtype=record))
    table = np.concatenate(chunks)
    values = {name: _scaled(table[name], columns[name]) for name in names}
    units = {name: columns[name].unit or None for name in names}
    return TableColumns(values, len(table), rows, units)


def _runs(rows: int, row_bytes: int, budget: int) -> list[tuple[int, int]]:
    """(first row, rows) of each read: all rows at once, or SAMPLE_RUNS evenly spaced runs within ``budget``."""
    if rows * row_bytes <= budget:
        return [(0, rows)]
    per_run = max(1, budget // row_bytes // SAMPLE_RUNS)
    count = min(SAMPLE_RUNS, budget // (per_run * row_bytes))
    starts = np.unique(np.linspace(0, rows - per_run, count).astype(np.int64))
    return [(int(first), per_run) for first in starts]


def _scaled(raw: np.ndarray, column: Any) -> np.ndarray:
    """A column's stored values as the physical ones: TNULL as NaN, then TSCAL and TZERO applied."""
    values = raw.astype(np.float64)
    if raw.dtype.kind in "iu" and isinstance(column.null, int):
        values[raw == column.null] = np.nan
    if column.bscale not in (None, 1):
        values *= float(column.bscale)
    if column.bzero not in (None, 0):
        values += float(column.bzero)
    return values


def series_of(x: np.ndarray, y: np.ndarray, max_series: int) -> tuple[list[Series], int]:
    """Lines from an x and a y column (first MAX lines), and how many lines the columns hold.

    A column of scalars gives one line over the rows; y cells of several values per row a line
    per channel (GOES's two X-ray bands).  Array cells give a line per row (a spectrum per
    row, as SDSS and many archives write them), of which ``max_series`` evenly spaced rows
    are shown, each cell's channels a line each.
    """
    if x.ndim == 1:
        channels = list(y.reshape(len(y), -1).T)
        return [Series(x, c, "rows" if len(channels) == 1 else f"channel {i}") for i, c in enumerate(channels)], \
            len(channels)
    found: list[Series] = []
    rows = np.unique(np.linspace(0, len(x) - 1, min(len(x), max_series)).astype(np.int64))
    for row in rows:
        xs, cell = x[row].ravel(), y[row]
        lines = [cell.ravel()] if cell.size == xs.size else (
            list(cell.T) if cell.ndim == 2 and cell.shape[0] == xs.size else
            list(cell) if cell.ndim == 2 and cell.shape[1] == xs.size else [])
        found += [Series(xs, line, f"row {row}" if len(lines) == 1 else f"row {row} channel {i}")
                  for i, line in enumerate(lines)]
    per_row = max(1, len(found) // len(rows))
    return found[:max_series], len(x) * per_row


def draw_columns(
    hdu: Any, kind: str, x_column: tuple[str, str], y_name: str, stream: ByteStream, settings: ThumbnailSettings,
    deadline: Deadline,
) -> Thumbnail:
    """A chart of a table's column ``y_name`` against ``x_column`` (its name and the quantity it is)."""
    x_name, x_quantity = x_column
    read = read_columns(hdu, [x_name, y_name], stream, settings.read_bytes, deadline)
    series, total = series_of(read.values[x_name], read.values[y_name], MAX_SERIES)
    if not series:
        raise PreviewSkipped(f"its {y_name} cells do not hold as many values as its {x_name} cells")
    x: PreviewAxis = {"quantity": x_quantity, "unit": read.units[x_name], "source": f"column {x_name}"}
    y: PreviewAxis = {"quantity": y_name.lower(), "unit": read.units[y_name], "source": f"column {y_name}"}
    png, preview = draw_plot(series, x, y, settings.max_size)
    preview.update({"kind": kind, "series_total": total, "table_rows_read": read.rows_read, "table_rows": read.rows})
    return Thumbnail(png, preview)
