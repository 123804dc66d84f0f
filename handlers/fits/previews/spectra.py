"""Spectra drawn as line charts: a 1-D image (its x from the WCS), rows of an image beside a wavelength
array in another HDU (DESI's ``B_FLUX`` with ``B_WAVELENGTH``), and tables of wavelength and flux.

The pairing rule (README, "Previews"): a 1-D image HDU named ``<P>WAVELENGTH`` (``B_WAVELENGTH``,
or ``WAVELENGTH`` with an empty ``<P>``) is the x axis of each image HDU of the file, before or after
it, whose EXTNAME starts with ``<P>`` and whose last axis has as many elements; the longest such
``<P>`` wins.
"""

from __future__ import annotations

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
from handlers.obscore.axes import is_spectral

WAVELENGTH = "WAVELENGTH"
#: Labels of the spectral CTYPEs (FITS WCS paper III, table 1), by their first four letters, and the
#: unit each has when CUNITi is absent.
QUANTITIES = {"FREQ": ("frequency", "Hz"), "ENER": ("energy", "J"), "WAVN": ("wavenumber", "1/m"),
              "VRAD": ("radio velocity", "m/s"), "WAVE": ("wavelength", "m"), "VOPT": ("optical velocity", "m/s"),
              "ZOPT": ("redshift", None), "AWAV": ("air wavelength", "m"), "VELO": ("velocity", "m/s"),
              "BETA": ("beta", None)}
#: Names of a table's x column of a spectrum, with the quantity each is, and of its y column, preferred first.
SPECTRUM_X = {"WAVELENGTH": "wavelength", "WAVE": "wavelength", "LAMBDA": "wavelength", "FREQUENCY": "frequency",
              "FREQ": "frequency", "ENERGY": "energy", "CHANNEL": "channel", "LOGLAM": "log10 wavelength"}
SPECTRUM_Y = ("FLUX", "FLUX_DENSITY", "INTENSITY", "RATE", "COUNTS")


@dataclass(frozen=True)
class Wavelengths:
    """A wavelength array read from its own HDU, for the HDUs named with the same prefix."""

    prefix: str
    values: np.ndarray
    unit: str | None
    hdu: str


def is_wavelength_array(name: str, shape: Sequence[int]) -> bool:
    """Whether an image HDU is a ``<P>WAVELENGTH`` array (1-D) that later HDUs are plotted against."""
    return len(shape) == 1 and (name == WAVELENGTH or name.endswith(f"_{WAVELENGTH}"))


def read_wavelengths(hdu: Any, shape: Sequence[int], budget: int) -> Wavelengths:
    """The array of a ``<P>WAVELENGTH`` HDU, within ``budget`` bytes."""
    _check_budget(hdu, shape[0], budget)
    values = np.asarray(hdu.section[:], dtype=np.float64)
    return Wavelengths(hdu.name[: -len(WAVELENGTH)], values, _unit(hdu.header.get("BUNIT")), hdu.name)


def partner(name: str, shape: Sequence[int], seen: Sequence[Wavelengths]) -> Wavelengths | None:
    """The wavelength array an image HDU is plotted against, by the pairing rule; None if it has none."""
    matches = [w for w in seen if name.startswith(w.prefix) and name != w.hdu and shape[-1] == w.values.size]
    return max(matches, key=lambda w: len(w.prefix), default=None)


def draw_paired(
    hdu: Any, shape: Sequence[int], wavelengths: Wavelengths, settings: ThumbnailSettings, deadline: Deadline
) -> Thumbnail:
    """Rows of an image (one spectrum each) against the wavelength array of another HDU."""
    if len(shape) > 2:
        raise PreviewSkipped(f"a {'x'.join(map(str, shape))} array per wavelength of {wavelengths.hdu} "
                             "(such as DESI's resolution matrices) is not drawn")
    rows = _shown_rows(shape[0] if len(shape) == 2 else 1)
    _check_budget(hdu, len(rows) * shape[-1], settings.read_bytes)
    series = []
    for row in rows:
        deadline.check(f"reading the spectra of HDU {hdu.name}")
        values = _pixels(hdu, hdu.section[row] if len(shape) == 2 else hdu.section[:])
        series.append(Series(wavelengths.values, values, f"row {row}" if len(shape) == 2 else "the array"))
    _refuse_constant_integers(hdu, series)
    x: PreviewAxis = {"quantity": "wavelength", "unit": wavelengths.unit, "source": f"HDU {wavelengths.hdu}"}
    quantity = hdu.name[len(wavelengths.prefix):].lower() or "value"
    y: PreviewAxis = {"quantity": quantity, "unit": _unit(hdu.header.get("BUNIT")), "source": "the HDU's rows"}
    png, preview = draw_plot(series, x, y, settings.max_size)
    preview.update({"kind": "spectrum", "series_total": shape[0] if len(shape) == 2 else 1})
    return Thumbnail(png, preview)


def draw_line(hdu: Any, shape: Sequence[int], settings: ThumbnailSettings, deadline: Deadline) -> Thumbnail:
    """An image with one axis longer than 1 pixel, as a chart: a spectrum where the axis is spectral."""
    along = next(i for i, n in enumerate(shape) if n > 1)
    length = shape[along]
    _check_budget(hdu, length, settings.read_bytes)
    deadline.check(f"reading HDU {hdu.name or '?'} for its chart")
    index = tuple(slice(None) if i == along else 0 for i in range(len(shape)))
    values = _pixels(hdu, hdu.section[index])
    fits_axis = len(shape) - along
    x_values, x = _spectral_x(hdu.header, fits_axis, length)
    series = [Series(x_values, values, f"FITS axis {fits_axis}")]
    _refuse_constant_integers(hdu, series)
    y: PreviewAxis = {"quantity": "flux" if x["source"].startswith("WCS") else "value",
                      "unit": _unit(hdu.header.get("BUNIT")), "source": "pixel values"}
    png, preview = draw_plot(series, x, y, settings.max_size)
    preview["kind"] = "spectrum" if x["source"].startswith("WCS") else "plot"
    return Thumbnail(png, preview)


def dispersion_axis(header: Any) -> int | None:
    """Which of the drawn plane's axes (FITS axis 1 or 2) has a spectral CTYPE: a 2-D spectrum's wavelength
    axis.  A cube's spectral third axis is not drawn (its middle plane is), so it makes no 2-D spectrum."""
    for axis in (1, 2):
        ctype = header.get(f"CTYPE{axis}")
        if isinstance(ctype, str) and is_spectral(ctype.strip().upper()):
            return axis
    return None


def table_columns(names: Sequence[str]) -> tuple[str, str, str] | None:
    """(x column, its quantity, y column) of a table spectrum, matched by name in any case; None if none."""
    upper = {n.upper(): n for n in names}
    x = next((upper[n] for n in SPECTRUM_X if n in upper), None)
    y = next((upper[n] for n in SPECTRUM_Y if n in upper), None)
    return (x, SPECTRUM_X[x.upper()], y) if x is not None and y is not None else None


def _spectral_x(header: Any, axis: int, length: int) -> tuple[np.ndarray, PreviewAxis]:
    """The x values of a spectral axis from its WCS keywords; else the pixel index (0 first)."""
    ctype = header.get(f"CTYPE{axis}")
    ctype = ctype.strip().upper() if isinstance(ctype, str) else ""
    pixels = np.arange(length, dtype=np.float64)
    if not is_spectral(ctype):
        return pixels, {"quantity": "pixel", "unit": None, "source": "pixel index"}
    quantity, default_unit = QUANTITIES.get(ctype[:4], ("spectral coordinate", None))
    try:
        if ctype[4:].strip("-").strip():  # a non-linear algorithm (WAVE-LOG, FREQ-TAB...): wcslib, in SI units
            from astropy.wcs import WCS

            spectral = WCS(header).sub([axis])
            values = np.asarray(spectral.all_pix2world(pixels, 0)[0], dtype=np.float64)
            unit = str(spectral.wcs.cunit[0]) or default_unit
        else:
            values = _linear(header, axis, pixels)
            unit = _unit(header.get(f"CUNIT{axis}")) or default_unit
    except Exception as exc:  # noqa: BLE001 - a WCS astropy cannot evaluate still leaves the pixels to plot
        return pixels, {"quantity": "pixel", "unit": None, "source": f"pixel index ({ctype}: {exc})"}
    return values, {"quantity": quantity, "unit": unit, "source": f"WCS axis {axis} ({ctype})"}


def _linear(header: Any, axis: int, pixels: np.ndarray) -> np.ndarray:
    """CRVALi + (p - CRPIXi) * (CDi_i, or CDELTi * PCi_i), p the 1-based pixel (FITS WCS paper I)."""
    crval, crpix = float(header.get(f"CRVAL{axis}", 0.0)), float(header.get(f"CRPIX{axis}", 0.0))
    step = header.get(f"CD{axis}_{axis}")
    if step is None:
        step = float(header.get(f"CDELT{axis}", 1.0)) * float(header.get(f"PC{axis}_{axis}", 1.0))
    values: np.ndarray = crval + (pixels + 1 - crpix) * float(step)
    return values


def _shown_rows(rows: int) -> list[int]:
    """Up to MAX_SERIES rows, evenly spaced, first and last included."""
    return sorted({int(r) for r in np.linspace(0, rows - 1, min(rows, MAX_SERIES))})


def _pixels(hdu: Any, data: Any) -> np.ndarray:
    """Pixel values as float64, BLANK as NaN (astropy has applied BSCALE/BZERO)."""
    values = np.asarray(data)
    blank = hdu.header.get("BLANK") if "BSCALE" not in hdu.header else None
    floats = values.astype(np.float64)
    if isinstance(blank, int) and values.dtype.kind in "iu":
        floats[values == blank] = np.nan
    return floats


def _refuse_constant_integers(hdu: Any, series: Sequence[Series]) -> None:
    """An integer array of one value (an empty mask or quality array) holds nothing to look at."""
    if int(hdu.header.get("BITPIX", 0)) <= 0:
        return
    values = np.concatenate([s.y[np.isfinite(s.y)] for s in series])
    if values.size and values.min() == values.max():
        raise PreviewSkipped(f"every value read is {values[0]:g}: an integer array (a mask or quality flags) "
                             "with nothing to show")


def _check_budget(hdu: Any, pixels: int, budget: int) -> None:
    needed = pixels * abs(int(hdu.header["BITPIX"])) // 8
    if needed > budget:
        raise PreviewSkipped(f"its chart would read {needed:,} bytes, more than PREVIEW_READ_BYTES ({budget:,})")


def _unit(value: object) -> str | None:
    """A unit card's value, or None where it is absent or not text."""
    return value.strip() or None if isinstance(value, str) else None

