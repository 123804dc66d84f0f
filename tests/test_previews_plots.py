"""Charts judged on their pixels: where a line's peak is drawn, which way x runs, gaps, the y-range."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from handlers.documents import Preview
from handlers.fits.previews.plots import COLOURS, Series, draw_plot, nice_ticks

WAVELENGTH = np.linspace(4000.0, 7000.0, 3001)  # 1 Angstrom a point


def chart(*series: Series) -> tuple[np.ndarray, Preview]:
    png, preview = draw_plot(list(series), {"quantity": "wavelength", "unit": "Angstrom"},
                             {"quantity": "flux", "unit": "Jy"}, 512)
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")), preview


def line_pixels(pixels: np.ndarray, index: int = 0) -> np.ndarray:
    """(row, column) of every pixel drawn in the colour of series ``index``."""
    colour = tuple(int(COLOURS[index][i : i + 2], 16) for i in (1, 3, 5))
    return np.argwhere((pixels == colour).all(axis=2))


def x_pixel(preview: Preview, value: float) -> float:
    """Where the chart puts ``value`` on x, from the frame and range the preview records."""
    left, _, right, _ = preview["plot_area"]
    return left + (value - preview["x"]["min"]) / (preview["x"]["max"] - preview["x"]["min"]) * (right - left)


def peak_column(pixels: np.ndarray, index: int = 0) -> int:
    drawn = line_pixels(pixels, index)
    return int(drawn[drawn[:, 0] == drawn[:, 0].min(), 1].mean())


def emission(centre: float, x: np.ndarray = WAVELENGTH) -> np.ndarray:
    return 1.0 + 5.0 * np.exp(-0.5 * ((x - centre) / 4.0) ** 2)


def test_a_lines_peak_is_drawn_at_its_wavelength() -> None:
    pixels, preview = chart(Series(WAVELENGTH, emission(6563.0), "row 0"))
    assert (preview["x"]["min"], preview["x"]["max"]) == (4000.0, 7000.0)
    assert abs(peak_column(pixels) - x_pixel(preview, 6563.0)) <= 1
    assert preview["y"]["max"] > 6.0  # the line keeps its height: a few points wide is no spike


def test_x_increases_to_the_right_whatever_the_order_of_the_points() -> None:
    descending = WAVELENGTH[::-1]
    pixels, preview = chart(Series(descending, emission(6563.0, descending), "row 0"))
    left, _, right, _ = preview["plot_area"]
    assert peak_column(pixels) > left + 0.8 * (right - left)  # 6563 lies at 85 % of 4000-7000
    assert abs(peak_column(pixels) - x_pixel(preview, 6563.0)) <= 1


def test_nan_values_leave_a_gap() -> None:
    flux = emission(6563.0)
    gap = (WAVELENGTH > 5000.0) & (WAVELENGTH < 5300.0)
    flux[gap] = np.nan
    pixels, preview = chart(Series(WAVELENGTH, flux, "row 0"))
    columns = set(line_pixels(pixels)[:, 1].tolist())
    inside = range(int(x_pixel(preview, 5000.0)) + 2, int(x_pixel(preview, 5300.0)) - 1)
    assert not columns & set(inside)
    assert int(x_pixel(preview, 4900.0)) in columns and int(x_pixel(preview, 5400.0)) in columns
    assert preview["series"][0]["points"] < len(WAVELENGTH)


def test_a_single_spike_does_not_flatten_the_rest() -> None:
    rng = np.random.default_rng(1)
    flux = 1.0 + 0.1 * rng.standard_normal(WAVELENGTH.size)
    flux[1234] = 1e6  # a cosmic ray
    pixels, preview = chart(Series(WAVELENGTH, flux, "row 0"))
    assert preview["y"]["max"] < 2.0
    _, top, _, bottom = preview["plot_area"]
    rows = line_pixels(pixels)[:, 0]
    median_height = (bottom - np.median(rows)) / (bottom - top)
    assert 0.3 < median_height < 0.7  # the continuum fills the frame, not a line along its bottom
    assert rows.min() <= top + 1  # the spike itself is drawn, up to the frame


def test_series_are_overlaid_in_their_own_colours() -> None:
    pixels, preview = chart(Series(WAVELENGTH, emission(5000.0), "row 0"),
                            Series(WAVELENGTH, emission(6000.0) + 2, "row 1"))
    assert [s["label"] for s in preview["series"]] == ["row 0", "row 1"]
    assert abs(peak_column(pixels, 0) - x_pixel(preview, 5000.0)) <= 1
    assert abs(peak_column(pixels, 1) - x_pixel(preview, 6000.0)) <= 1


def test_positive_values_over_decades_get_a_log_axis() -> None:
    time = np.arange(1000.0)
    flux = 1e-8 * 10 ** (4 * np.exp(-0.5 * ((time - 600) / 30) ** 2))  # a flare: 1e-8 to 1e-4 W/m2
    _, preview = chart(Series(time, flux, "channel 0"))
    assert preview["y"]["scale"] == "log10"
    assert preview["y"]["min"] < -7.9 and preview["y"]["max"] > -4.2


def test_ticks_are_round_values_within_the_range() -> None:
    assert nice_ticks(3990.0, 7010.0) == [4000.0, 5000.0, 6000.0, 7000.0]
    assert nice_ticks(-0.3, 0.9) == [-0.2, 0.0, 0.2, 0.4, 0.6, 0.8]
    assert nice_ticks(1.1e-15, 9e-15) == [2e-15, 4e-15, 6e-15, 8e-15]
