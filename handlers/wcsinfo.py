"""Pure: the celestial footprint of an image header, as strict JSON."""

from __future__ import annotations

import logging
import math
import re
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from astropy.io import fits

logger = logging.getLogger(__name__)

# astropy.coordinates frame names, so that consumers can pass them to SkyCoord.
_RADESYS_FRAMES = {"ICRS": "icrs", "FK5": "fk5", "FK4": "fk4", "FK4-NO-E": "fk4noeterms"}
_LON_FRAMES = {"GLON": "galactic", "SLON": "supergalactic", "ELON": "barycentricmeanecliptic"}
# Distortion-paper lookup tables live in other HDUs' data units, which we must not
# read; without them the footprint is off by well under an arcsecond (SIP is kept).
_LOOKUP_DISTORTION = re.compile(r"(CPDIS|CQDIS)\d|(DP|DQ)\d[. ]")
_SIP = re.compile(r"[AB]_ORDER ")
CARD = 80


def _parse(header: fits.Header) -> Any:
    """The header's WCS, from a copy of its cards (WCS() would "fix" unparsable cards in place).

    Without SIP, wcslib parses the cards itself (``Wcsprm``) and fixes them as WCS() would
    (``Wcsprm.fix``): twenty times faster than WCS(header), whose Python layer copies and
    verifies the header card by card, which for small files is most of their processing.
    SIP polynomials are read by astropy's layer only, so a header with them goes through it.
    """
    from astropy.wcs import WCS, Wcsprm

    text = header.tostring()
    records = [text[i : i + CARD] for i in range(0, len(text), CARD)]
    kept = "".join(r for r in records if not _LOOKUP_DISTORTION.match(r))
    if any(_SIP.match(r) for r in records):
        return WCS(fits.Header.fromstring(kept))
    prm = Wcsprm(header=kept.encode("ascii"), relax=True)
    prm.fix()
    prm.set()  # wcslib checks the parameters here: a bad one raises, as in WCS()
    wcs = WCS(naxis=prm.naxis)
    wcs.wcs = prm
    return wcs


def celestial_wcs(header: fits.Header, shape: Sequence[int]) -> dict | None:
    """Frame, centre, corners and pixel scale of the image's celestial axes, in degrees
    (arcseconds for the scale); None when there are none or they cannot be evaluated."""
    from astropy.wcs.utils import proj_plane_pixel_scales

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wcs = _parse(header)
            if not wcs.has_celestial:
                return None
            celestial = wcs.celestial
            # The celestial sub-WCS keeps the original axis order: map its axes to
            # the image's (numpy order) and its world outputs to (lon, lat).
            axes = sorted((wcs.wcs.lng, wcs.wcs.lat))
            if axes[1] >= len(shape):
                raise ValueError(f"celestial axes {axes} beyond the image's shape {shape!r}")
            lengths = [shape[len(shape) - 1 - axis] for axis in axes]
            lonlat = [celestial.wcs.lng, celestial.wcs.lat]
            centre = celestial.all_pix2world([[(n - 1) / 2 for n in lengths]], 0)[0][lonlat]
            # The outer edges of the corner pixels (astropy's default is their centres).
            footprint = celestial.calc_footprint(axes=lengths, center=False)[:, lonlat]
            scale = proj_plane_pixel_scales(celestial)
            # wcslib accepts a singular matrix, which maps the image onto a line.
            matrix = celestial.pixel_scale_matrix
            if not abs(np.linalg.det(matrix)) > 1e-10 * math.prod(scale):
                raise ValueError(f"singular pixel-to-sky matrix {matrix.tolist()}")
            lon_type = celestial.wcs.ctype[celestial.wcs.lng][:4]
            frame = _LON_FRAMES.get(lon_type) or (
                _RADESYS_FRAMES.get(celestial.wcs.radesys) if lon_type == "RA--" else None
            )
            equinox = celestial.wcs.equinox
    except Exception as exc:  # wcslib fails in many ways (even MemoryError); none may fail the file
        logger.warning("cannot evaluate the celestial WCS: %s: %s", type(exc).__name__, exc)
        return None
    values = [*centre, *footprint.ravel(), *scale]
    if not all(math.isfinite(x) for x in values):
        logger.warning("celestial WCS gives non-finite coordinates: %r", values)
        return None
    return {
        "frame": frame,
        "equinox": None if math.isnan(equinox) else float(equinox),
        "ctype": [str(celestial.wcs.ctype[axis]) for axis in lonlat],
        "centre": [float(x) for x in centre],
        "footprint": footprint.tolist(),
        "pixel_scale_arcsec": [float(x) * 3600 for x in scale],
    }
