"""Pure: line charts (a spectrum, a light curve) drawn with Pillow, and the recipe that redoes them.

Pillow rather than matplotlib: the layer ships within Lambda's 250 MiB, and matplotlib would
add about 80 MiB and its import to every cold start (README, "Previews").  A chart is a frame
with ticks at round values, each series a polyline broken where a value is not finite (a gap
stays a gap), x increasing to the right.  The y-range is the range of a running median of
MEDIAN_WINDOW points (padded by Y_PADDING), so a single spike (a cosmic ray, a bad pixel)
cannot flatten the rest, while a spectral line two or more points wide keeps its height (a
percentile interval cannot do both: what it cuts from a spike it cuts from a line); what lies
beyond the range is drawn at the frame.  A series of fewer than MIN_FILTERED points is shown whole.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from handlers.documents import Preview, PreviewAxis, PreviewSeries
from handlers.fits.previews import PreviewSkipped
from handlers.fits.previews.images import block_mean

#: Points of the running median whose range is the y-range, and the fewest points it is used on.
MEDIAN_WINDOW = 3
MIN_FILTERED = 16
#: Fraction of the y-range added above and below it.
Y_PADDING = 0.05
#: A positive series spanning more than this factor is drawn on a log10 axis.
LOG_SPAN = 1000.0
#: Series drawn in one chart, at most (rows of spectra, channels); their colours, in order.
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
MAX_SERIES = len(COLOURS)
#: Margins of the frame, in pixels: room for tick labels and axis titles.
LEFT, RIGHT, TOP, BOTTOM = 62, 12, 10, 40
TICKS = 5
INK = (0, 0, 0)


@dataclass(frozen=True)
class Series:
    """One line: its x and y values (the same length), and what it is (``row 3``, ``channel 1``)."""

    x: np.ndarray
    y: np.ndarray
    label: str


def chart_size(max_size: int) -> tuple[int, int]:
    """Width and height of a chart: the longest side ``max_size``, 8:5."""
    return max_size, max(1, max_size * 5 // 8)


def draw_plot(series: Sequence[Series], x: PreviewAxis, y: PreviewAxis, max_size: int) -> tuple[bytes, Preview]:
    """A PNG of ``series`` against the axes described by ``x`` and ``y``, and its recipe.

    ``x`` and ``y`` name the quantities and units; their ``min``/``max`` (and y's ``scale``)
    are filled in here, as the chart shows them.  Raise PreviewSkipped when no point is finite.
    """
    from PIL import Image, ImageDraw, ImageFont

    if not any(np.isfinite(s.x).any() and np.isfinite(s.y).any() for s in series):
        raise PreviewSkipped("no finite value to chart")
    width, height = chart_size(max_size)
    area = (LEFT, TOP, max(LEFT + 1, width - RIGHT), max(TOP + 1, height - BOTTOM))
    log = _wants_log(series[:MAX_SERIES])
    scaled = [_on_scale(s, log) for s in series[:MAX_SERIES]]
    xs = np.concatenate([s.x[np.isfinite(s.y)] for s in scaled]) if scaled else np.empty(0)
    x_lo, x_hi = _span(xs)
    y_lo, y_hi = _robust_range([s.y for s in scaled])
    shown = [_decimated(s, area[2] - area[0]) for s in scaled]
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    for s, colour in zip(shown, COLOURS, strict=False):
        px = area[0] + (s.x - x_lo) / (x_hi - x_lo) * (area[2] - area[0])
        py = area[3] - (s.y - y_lo) / (y_hi - y_lo) * (area[3] - area[1])
        with np.errstate(invalid="ignore"):
            px, py = np.rint(px), np.rint(np.clip(py, area[1], area[3]))
        for run in _finite_runs(px, py):
            if len(run) == 1:
                draw.point(run, fill=colour)
            else:
                draw.line(run, fill=colour, width=1)
    _frame(draw, font, area, (x_lo, x_hi), (y_lo, y_hi))
    y_title = f"log10 {_title(y)}" if log else _title(y)
    draw.text(((area[0] + area[2]) / 2, height - 4), _title(x), fill=INK, font=font, anchor="md")
    label = Image.new("RGB", (height, 14), "white")
    ImageDraw.Draw(label).text((height / 2, 7), y_title, fill=INK, font=font, anchor="mm")
    image.paste(label.rotate(90, expand=True), (0, 0))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    # The x values' own range, which the record reads a spectrum's band from: the frame widens a single value.
    drawn_x = xs[np.isfinite(xs)]
    x_axis: PreviewAxis = {**x, "min": float(drawn_x.min()), "max": float(drawn_x.max())} if drawn_x.size else \
        {**x, "min": x_lo, "max": x_hi}
    y_axis: PreviewAxis = {**y, "min": y_lo, "max": y_hi, "scale": "log10" if log else "linear"}
    listed: list[PreviewSeries] = [
        {"label": s.label, "colour": colour, "points": int(np.isfinite(s.y).sum())}
        for s, colour in zip(series, COLOURS, strict=False)
    ]
    preview: Preview = {
        "x": x_axis,
        "y": y_axis,
        "interval": "running median",
        "interval_parameters": {"window": MEDIAN_WINDOW, "padding": Y_PADDING, "min_points": MIN_FILTERED},
        "series": listed,
        "series_total": len(series),
        "plot_area": list(area),
        "mode": "RGB",
        "width": width,
        "height": height,
    }
    return buffer.getvalue(), preview


def _decimated(series: Series, columns: int) -> Series:
    """At most two points per pixel column: means of runs of consecutive points (NaN where none is finite)."""
    factor = math.ceil(len(series.y) / (2 * max(1, columns)))
    if factor <= 1:
        return Series(series.x.astype(np.float64), series.y.astype(np.float64), series.label)
    finite = np.isfinite(series.x)
    y = np.where(finite, series.y, np.nan)
    return Series(block_mean(series.x[None, :], factor)[0], block_mean(y[None, :], factor)[0], series.label)


def _span(values: np.ndarray) -> tuple[float, float]:
    """The finite range of ``values``, widened where it is a single value (or none)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    return (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)


def _wants_log(series: Sequence[Series]) -> bool:
    """Whether the y-range (a spike left out) is positive and spans more than LOG_SPAN (X-ray fluxes)."""
    lo, hi = _robust_range([s.y for s in series])
    pad = (hi - lo) * Y_PADDING / (1 + 2 * Y_PADDING)
    return lo + pad > 0 and (hi - pad) / (lo + pad) > LOG_SPAN


def _robust_range(values: Sequence[np.ndarray]) -> tuple[float, float]:
    """The range of each series' running median (of the series itself when short), padded by Y_PADDING."""
    filtered = [_running_median(v) if np.isfinite(v).sum() >= MIN_FILTERED else v for v in values]
    lo, hi = _span(np.concatenate(filtered) if filtered else np.empty(0))
    pad = (hi - lo) * Y_PADDING
    return lo - pad, hi + pad


def _running_median(values: np.ndarray) -> np.ndarray:
    """Median of the finite values of each MEDIAN_WINDOW-point window (NaN where a window has none)."""
    half = MEDIAN_WINDOW // 2
    windows = np.lib.stride_tricks.sliding_window_view(np.pad(values, half, constant_values=np.nan), MEDIAN_WINDOW)
    some = np.isfinite(windows).any(axis=1)
    medians = np.full(len(values), np.nan)
    medians[some] = np.nanmedian(windows[some], axis=1)
    return medians


def _on_scale(series: Series, log: bool) -> Series:
    """The series with y as drawn: log10 of it on a log axis (where it is not positive, a gap)."""
    if not log:
        return series
    with np.errstate(invalid="ignore", divide="ignore"):
        return Series(series.x, np.log10(np.where(series.y > 0, series.y, np.nan)), series.label)


def _finite_runs(px: np.ndarray, py: np.ndarray) -> list[list[tuple[float, float]]]:
    """The points as runs of consecutive finite ones: a non-finite value breaks the line."""
    finite = np.isfinite(px) & np.isfinite(py)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], finite.astype(np.int8), [0]])))
    return [list(zip(px[a:b].tolist(), py[a:b].tolist(), strict=True)) for a, b in zip(edges[::2], edges[1::2],
                                                                                        strict=True)]


def _frame(draw: Any, font: Any, area: tuple[int, int, int, int], xs: tuple[float, float],
           ys: tuple[float, float]) -> None:
    """The frame, and ticks at round values labelled below and to the left of it."""
    left, top, right, bottom = area
    draw.rectangle(area, outline=INK)
    for value in nice_ticks(*xs):
        px = left + (value - xs[0]) / (xs[1] - xs[0]) * (right - left)
        draw.line([(px, bottom), (px, bottom + 4)], fill=INK)
        draw.text((px, bottom + 6), f"{value:.4g}", fill=INK, font=font, anchor="ma")
    for value in nice_ticks(*ys):
        py = bottom - (value - ys[0]) / (ys[1] - ys[0]) * (bottom - top)
        draw.line([(left - 4, py), (left, py)], fill=INK)
        draw.text((left - 6, py), f"{value:.4g}", fill=INK, font=font, anchor="rm")


def nice_ticks(lo: float, hi: float) -> list[float]:
    """At most TICKS + 1 values at multiples of 1, 2 or 5 times a power of ten within [lo, hi]."""
    power = 10.0 ** math.floor(math.log10((hi - lo) / TICKS))
    step = next(m * power for m in (1, 2, 5, 10) if (hi - lo) / (m * power) <= TICKS + 1)
    return [float(f"{n * step:.12g}") for n in range(math.ceil(lo / step), math.floor(hi / step) + 1)]


def _title(axis: PreviewAxis) -> str:
    unit = axis.get("unit")
    return f"{axis.get('quantity', '')} ({unit})" if unit else str(axis.get("quantity", ""))
