"""Pure: an image header's spectral WCS axis (FITS WCS paper III) and its extent in vacuum wavelengths.

wcslib does the physics: ``sptr`` re-expresses any spectral axis (frequency, energy, wavenumber,
air wavelength, the velocities with the header's RESTFRQ/RESTWAV) as vacuum wavelength, air
to vacuum included, which SpectralCoord leaves undone for AWAV and gets wrong for BETA.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

from astropy.io import fits

from handlers.documents import SpectralAxis
from handlers.obscore.axes import axis_types, is_spectral
from handlers.threads.thread_warnings import ignored

logger = logging.getLogger(__name__)

#: Types whose logarithmic (-LOG) axes wcslib cannot translate, but whose values astropy's
#: spectral equivalencies convert to a wavelength.
_CONVERTIBLE_BY_UNIT = frozenset({"WAVE", "FREQ", "ENER", "WAVN"})


class _Extent(TypedDict, total=False):
    """What wcslib computes of the axis (``SpectralAxis``'s fields of the same names)."""

    unit: str | None
    world: list[float] | None
    wavelength_m: list[float] | None
    error: str | None


def spectral_axis(
    header: fits.Header, values: Mapping[str, Any], shape: Sequence[int], written: bytes | None = None
) -> SpectralAxis | None:
    """The image's first spectral axis, or None where no CTYPEi of its axes is spectral.

    Parameters:
        header: the HDU's header, formatted for wcslib only where ``written`` is None.
        values: the header's keywords with their first values.
        shape: the image's shape, numpy order (NAXISn first).
        written: the header's blocks as the file holds them, if the caller has them.
    """
    types = axis_types(values)
    number = next((n for n, ctype in enumerate(types, 1) if is_spectral(ctype)), None)
    if number is None:
        return None
    # An axis beyond NAXIS (WCSAXES > NAXIS) is one pixel wide (WCS paper I, section 2.2).
    pixels = int(shape[len(shape) - number]) if number <= len(shape) else 1
    specsys = values.get("SPECSYS")
    axis: SpectralAxis = {
        "ctype": types[number - 1], "axis": number, "pixels": pixels, "unit": None, "world": None,
        "wavelength_m": None, "specsys": specsys.strip() if isinstance(specsys, str) else None, "error": None,
    }
    if axis["ctype"][4:] == "-TAB":
        axis["error"] = "a -TAB axis's values are a table in another HDU (WCS paper III, section 6), which is not read"
        return axis
    try:
        text = written if written is not None else header.tostring().encode("ascii")
        with ignored():  # wcslib's FITSFixWarnings: what it fixed is its business
            axis.update(_extent(text, number, pixels))
    except Exception as exc:  # wcslib fails in many ways; none may fail the file
        axis["error"] = _reason(exc)
        logger.warning("cannot evaluate the spectral WCS axis %d: %s", number, axis["error"])
    return axis


def _extent(text: bytes, number: int, pixels: int) -> _Extent:
    """Unit, edge values and edge wavelengths of WCS axis ``number`` (1-based) of ``pixels`` pixels."""
    from astropy.wcs import Wcsprm

    spectral = Wcsprm(header=text, relax=True).sub([number])
    spectral.fix()
    spectral.set()
    edges = [[0.5], [pixels + 0.5]]  # FITS pixel coordinates: the outer edges of the end pixels
    world = [float(x) for x in spectral.p2s(edges, 1)["world"][:, 0]]
    unit = spectral.cunit[0].to_string("fits") or None
    if not all(math.isfinite(x) for x in world):
        raise ValueError(f"the axis's values at its edges are not finite: {world!r}")
    found: _Extent = {"unit": unit, "world": world}
    try:
        wavelengths = _wavelengths(spectral, edges, world, unit)
    except Exception as exc:
        found["error"] = _reason(exc)
        return found
    if not all(math.isfinite(x) and x > 0 for x in wavelengths):
        found["error"] = f"the axis's edges are no wavelengths: {wavelengths!r} m"
        return found
    found["wavelength_m"] = sorted(wavelengths)
    return found


def _wavelengths(spectral: Any, edges: list[list[float]], world: list[float], unit: str | None) -> list[float]:
    """The edges as vacuum wavelengths (m): wcslib's translation, else (a -LOG axis) a unit conversion."""
    try:
        spectral.sptr("WAVE-???")
    except ValueError:
        if spectral.ctype[0][:4] not in _CONVERTIBLE_BY_UNIT or not unit:
            raise
        import astropy.units as u

        return [float(x) for x in u.Quantity(world, unit).to(u.m, equivalencies=u.spectral()).value]
    spectral.set()
    return [float(x) for x in spectral.p2s(edges, 1)["world"][:, 0]]


def _reason(exc: Exception) -> str:
    """An exception's message on one line, without wcslib's "ERROR n in f() at line l of file..." lines."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip() and not line.startswith("ERROR ")]
    return " ".join(lines) or f"{type(exc).__name__}: {exc}"
