"""Pure: the celestial footprint of an image header, as strict JSON.

The Sun's frames (helioprojective and heliographic, FITS WCS for solar images: Thompson 2006,
A&A 449, 791) are named as sunpy names them, their longitudes wrapped as sunpy wraps them,
and their observer recorded as sunpy reads it (``sunpy.coordinates.wcs_utils``), without sunpy.
"""

from __future__ import annotations

import logging
import math
import re
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from astropy.io import fits

from handlers.documents import CelestialWcs, SolarObserver
from handlers.errors import LimitWarning
from handlers.fits.coverage import coverage
from handlers.fits.format import CARD
from handlers.threads.thread_warnings import ignored

logger = logging.getLogger(__name__)

# astropy.coordinates frame names, so that consumers can pass them to SkyCoord.
RADESYS_FRAMES = {"ICRS": "icrs", "FK5": "fk5", "FK4": "fk4", "FK4-NO-E": "fk4noeterms"}
_LON_FRAMES = {"GLON": "galactic", "SLON": "supergalactic", "ELON": "barycentricmeanecliptic"}
#: sunpy.coordinates' frames of the Sun, by their longitude's CTYPE.
SOLAR_FRAMES = {"HPLN": "helioprojective", "HGLN": "heliographic_stonyhurst", "CRLN": "heliographic_carrington"}
#: Where sunpy's frames wrap their longitudes: Tx and Stonyhurst longitude in [-180, 180), Carrington in [0, 360).
_WRAP_ANGLES = {"helioprojective": 180.0, "heliographic_stonyhurst": 180.0, "heliographic_carrington": 360.0}
# Distortion-paper lookup tables live in other HDUs' data units, which we must not
# read; without them the footprint is off by well under an arcsecond (SIP is kept).
_LOOKUP_DISTORTION = re.compile(rb"(CPDIS|CQDIS)\d|(DP|DQ)\d[. ]")
#: SOHO's solar-x and solar-y (EIT, MDI; TRACE and Hinode too), which sunpy.map reads as HPLN-TAN and HPLT-TAN.
_SOLAR_XY = re.compile(rb"CTYPE(?:(?P<x>1) *= *'(?P<solar_x>(?i:SOLAR[-_]X))|2 *= *'(?P<solar_y>(?i:SOLAR[-_]Y))) *'")
_HELIOPROJECTIVE_CARDS = {True: b"CTYPE1  = 'HPLN-TAN'".ljust(CARD), False: b"CTYPE2  = 'HPLT-TAN'".ljust(CARD)}
_SIP = re.compile(rb"[AB]_ORDER ")
_SIP_ORDER = re.compile(rb"(AP|BP|A|B)_ORDER *= *([-+]?\d+)")
_SIP_CARDS = re.compile(rb"(?:AP|BP|A|B)_(?:ORDER|DMAX|\d+_\d+) *=")
#: Highest SIP polynomial order passed to astropy.  astropy looks up every coefficient a
#: polynomial of the stated order could have, one header lookup each, in one call that
#: nothing can interrupt; fitted distortions use low orders, so this is far above any real one.
MAX_SIP_ORDER = 20


def _capped_sip(text: bytes, max_order: int) -> bytes:
    """``text`` without its SIP cards if any SIP order is over ``max_order``, with a warning saying so.

    The WCS is then computed without the distortion (its linear part is still the image's
    footprint, to within the distortion), rather than left out.
    """
    if not _SIP_ORDER.search(text):
        return text
    over = {m.group(1).decode(): int(m.group(2)) for m in _SIP_ORDER.finditer(text)
            if m.start() % CARD == 0 and int(m.group(2)) > max_order}
    if not over:
        return text
    stated = ", ".join(f"{name}_ORDER = {order:,}" for name, order in over.items())
    warnings.warn(LimitWarning(f"{stated} over the SIP order cap ({max_order}): the WCS is computed without its "
                               "SIP distortion"), stacklevel=3)
    return _without_cards(text, _SIP_CARDS)


def _helioprojective_solar_xy(text: bytes) -> bytes:
    """``text`` with CTYPE1 = 'solar-x' and CTYPE2 = 'solar-y' as HPLN-TAN and HPLT-TAN, with a warning
    saying so: wcslib knows no such axes, and the SOHO convention meant these (Thompson 2006, A&A 449, 791)."""
    found = [m for m in _SOLAR_XY.finditer(text) if m.start() % CARD == 0]
    if not found:
        return text
    written = ", ".join(f"CTYPE{'1' if m['x'] else '2'} = '{(m['solar_x'] or m['solar_y']).decode()}'" for m in found)
    warnings.warn(f"{written} read as HPLN-TAN and HPLT-TAN (helioprojective, as sunpy.map reads them)", stacklevel=3)
    for match in found:
        text = text[: match.start()] + _HELIOPROJECTIVE_CARDS[bool(match["x"])] + text[match.start() + CARD :]
    return text


def _parse(text: bytes) -> Any:
    """The header's WCS, from its text (WCS() would "fix" unparsable cards in place).

    The text is the header's blocks as the file holds them where the caller has them:
    formatting the cards again would verify each one, which costs more than the rest.
    Without SIP, wcslib parses the cards itself (``Wcsprm``) and fixes them as WCS() would
    (``Wcsprm.fix``): much faster than WCS(header), whose Python layer copies and
    verifies the header card by card (docs/measurements.md).
    SIP polynomials are read by astropy's layer only, so a header with them goes through it.
    """
    from astropy.wcs import WCS, Wcsprm

    kept = _without_cards(text, _LOOKUP_DISTORTION)
    if _SIP.search(kept) and any(_SIP.match(kept, start) for start in range(0, len(kept), CARD)):
        return WCS(fits.Header.fromstring(kept))
    prm = Wcsprm(header=kept, relax=True)
    prm.fix()
    prm.set()  # wcslib checks the parameters here: a bad one raises, as in WCS()
    wcs = WCS(naxis=prm.naxis)
    wcs.wcs = prm
    return wcs


def _without_cards(text: bytes, keyword: re.Pattern[bytes]) -> bytes:
    """``text`` without the cards whose keyword matches (a search first spares most headers the loop)."""
    if not keyword.search(text):
        return text
    return b"".join(
        text[start : start + CARD] for start in range(0, len(text), CARD) if not keyword.match(text, start)
    )


def celestial_wcs(
    header: fits.Header, shape: Sequence[int], written: bytes | None = None, max_sip_order: int = MAX_SIP_ORDER
) -> CelestialWcs | None:
    """Frame, centre, outline (``fits.coverage``), pixels and pixel scale of the image's celestial axes,
    in degrees (arcseconds for the scale), and a solar frame's observer; None when there are none,
    they cannot be evaluated or no pixel is on the sky.

    ``written``: the header's blocks as the file holds them, if the caller has them.
    ``max_sip_order``: SIP orders above it are left out before astropy sees them (a warning says so).
    """
    from astropy.wcs.utils import proj_plane_pixel_scales

    try:
        text = written if written is not None else header.tostring().encode("ascii")
    except Exception as exc:  # a card astropy cannot format
        logger.warning("cannot evaluate the celestial WCS: %s: %s", type(exc).__name__, exc)
        return None
    # Outside the silenced block: their warnings reach the document.
    text = _helioprojective_solar_xy(_capped_sip(text, max_sip_order))
    try:
        with ignored():
            wcs = _parse(text)
            if not wcs.has_celestial:
                return None
            celestial = wcs if wcs.is_celestial else wcs.celestial  # .celestial is a deep copy
            # The celestial sub-WCS keeps the original axis order: map its axes to
            # the image's (numpy order) and its world outputs to (lon, lat).
            axes = sorted((wcs.wcs.lng, wcs.wcs.lat))
            if axes[1] >= len(shape):
                raise ValueError(f"celestial axes {axes} beyond the image's shape {shape!r}")
            lengths = [shape[len(shape) - 1 - axis] for axis in axes]
            lonlat = [celestial.wcs.lng, celestial.wcs.lat]
            scale = proj_plane_pixel_scales(celestial)
            # wcslib accepts a singular matrix, which maps the image onto a line.
            matrix = celestial.pixel_scale_matrix
            if not abs(np.linalg.det(matrix)) > 1e-10 * math.prod(scale):
                raise ValueError(f"singular pixel-to-sky matrix {matrix.tolist()}")
            covered = coverage(celestial, lengths, lonlat, scale)
            if covered is None:
                raise ValueError("no pixel of the image is on the sky")
            lon_type = celestial.wcs.ctype[celestial.wcs.lng][:4]
            frame = SOLAR_FRAMES.get(lon_type) or _LON_FRAMES.get(lon_type) or (
                RADESYS_FRAMES.get(celestial.wcs.radesys) if lon_type == "RA--" else None
            )
            equinox = celestial.wcs.equinox
            observer = _observer(wcs.wcs) if lon_type in SOLAR_FRAMES else None
    except Exception as exc:  # wcslib fails in many ways (even MemoryError); none may fail the file
        logger.warning("cannot evaluate the celestial WCS: %s: %s", type(exc).__name__, exc)
        return None
    centre, footprint = covered.centre, covered.footprint
    values = [*centre, *(x for point in footprint for x in point), *scale]
    if not all(math.isfinite(x) for x in values):
        logger.warning("celestial WCS gives non-finite coordinates: %r", values)
        return None
    if frame in _WRAP_ANGLES:
        centre, footprint = _wrapped(centre, _WRAP_ANGLES[frame]), [_wrapped(p, _WRAP_ANGLES[frame]) for p in footprint]
    return {
        "frame": frame,
        "equinox": None if math.isnan(equinox) else float(equinox),
        "ctype": [str(celestial.wcs.ctype[axis]) for axis in lonlat],
        "centre": centre,
        "footprint": footprint,
        "all_sky": covered.all_sky,
        "pixels": lengths,
        "pixel_scale_arcsec": [float(x) * 3600 for x in scale],
        "observer": observer,
    }


def _wrapped(point: list[float], wrap_angle: float) -> list[float]:
    """(lon, lat) with the longitude in [wrap_angle - 360, wrap_angle), as astropy's Longitude wraps."""
    return [(point[0] - wrap_angle) % 360 + wrap_angle - 360, point[1]]


def _observer(prm: Any) -> SolarObserver:
    """Where the image was seen from and when, as wcslib read the cards (null where not given).

    sunpy's rules: the observation time is DATE-AVG, else DATE-OBS, DATE-BEG, DATE-END (wcslib
    writes DATE-OBS from MJD-OBS where only that is given); CRLT_OBS is read as HGLT_OBS (the
    latitude is the same in both systems).
    """
    aux = prm.aux
    return {
        "obstime": prm.dateavg or prm.dateobs or prm.datebeg or prm.dateend or None,
        "dsun_obs": aux.dsun_obs,
        "hgln_obs": aux.hgln_obs,
        "hglt_obs": aux.hglt_obs,
        "crln_obs": aux.crln_obs,
        "rsun_ref": aux.rsun_ref,
    }
