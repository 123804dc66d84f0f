"""Spatial coverage: the centre, field of view and region (ICRS) of the file's celestial WCS."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from handlers.documents import HduDocument, SpatialFields
from handlers.obscore.readers import Lookup, position
from handlers.threads.thread_warnings import ignored

# Besselian equinoxes for FK4, Julian for the rest (as FITS WCS paper II says).
_EQUINOX_FORMATS = {
    "fk4": "byear", "fk4noeterms": "byear", "fk5": "jyear", "barycentricmeanecliptic": "jyear",
}


def spatial(lookup: Lookup) -> SpatialFields:
    """The celestial WCS's coverage, else a target position from the header (RA_TARG, RA, OBJCTRA...)."""
    sky = _wcs_coverage(lookup.hdus, lookup.note)
    if sky["s_ra"] is None:
        pairs = (("RA_TARG", "DEC_TARG"), ("RA", "DEC"), ("OBJCTRA", "OBJCTDEC"))
        sky["s_ra"], sky["s_dec"] = lookup.find(*(position(*pair) for pair in pairs)) or (None, None)
    return {
        "s_ra": lookup.finite("s_ra", sky["s_ra"]),
        "s_dec": lookup.finite("s_dec", sky["s_dec"]),
        "s_fov": lookup.finite("s_fov", sky["s_fov"]),
        "s_region": sky["s_region"],
    }


def _wcs_coverage(hdus: Sequence[HduDocument], note: Callable[[str], None]) -> dict[str, Any]:
    """Centre, field of view and region (ICRS) of the first image with a celestial WCS.

    All null, and noted, where the WCS's frame cannot be converted to ICRS or the
    conversion gives no finite position (an equinox far beyond any epoch does).
    """
    sky: dict[str, Any] = dict.fromkeys(("s_ra", "s_dec", "s_fov", "s_region"))
    wcs = next((hdu["wcs"] for hdu in hdus if hdu.get("wcs")), None)
    if wcs is None:
        return sky
    refused = (
        "s_ra, s_dec, s_fov and s_region not taken from the celestial WCS"
        f" (frame {wcs.get('frame')!r}, equinox {wcs.get('equinox')!r})"
    )
    try:
        points = [wcs["centre"], *wcs["footprint"]]
        centre, *corners = _to_icrs(points, wcs["frame"], wcs.get("equinox"))
    except (ValueError, TypeError) as exc:
        reason = " ".join(str(exc).split())  # astropy's messages run over lines
        note(f"{refused}: it cannot be converted to ICRS: {reason}")
        return sky
    if not all(math.isfinite(x) for point in (centre, *corners) for x in point):
        note(f"{refused}: its position in ICRS is not finite")
        return sky
    from astropy.coordinates import angular_separation

    diagonals = [
        angular_separation(*map(math.radians, (*corners[i], *corners[i + 2]))) for i in (0, 1)
    ]
    sky.update(
        s_ra=centre[0],
        s_dec=centre[1],
        s_fov=math.degrees(max(diagonals)),
        s_region="POLYGON ICRS " + " ".join(f"{x:.7f}" for corner in corners for x in corner),
    )
    return sky


def _to_icrs(points: list[list[float]], frame: str | None, equinox: Any) -> list[tuple[float, float]]:
    """(lon, lat) degrees in ``frame`` (an astropy frame name) -> (RA, Dec) degrees in ICRS.

    ``equinox``: the WCS document's, a number or (not finite) its encoding, or None.
    """
    if frame == "icrs":
        return [(point[0], point[1]) for point in points]
    if frame is None:
        raise ValueError("the WCS's celestial frame is unknown")
    from astropy.coordinates import SkyCoord
    from astropy.time import Time

    options = {}
    if equinox is not None and frame in _EQUINOX_FORMATS:
        if isinstance(equinox, bool) or not isinstance(equinox, (int, float)) or not math.isfinite(equinox):
            raise ValueError(f"the equinox {equinox!r} is not a finite number")
        options["equinox"] = Time(equinox, format=_EQUINOX_FORMATS[frame])
    lon, lat = [point[0] for point in points], [point[1] for point in points]
    with ignored():  # an absurd equinox overflows in erfa: the caller checks the result
        icrs = SkyCoord(lon, lat, unit="deg", frame=frame, **options).icrs
    return list(zip(icrs.ra.degree.tolist(), icrs.dec.degree.tolist(), strict=True))
