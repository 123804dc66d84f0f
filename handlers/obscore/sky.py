"""Spatial coverage: the centre, field of view, region (ICRS), resolution and pixels of the observation."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from handlers.documents import CelestialWcs, SpatialFields
from handlers.fits.wcs import RADESYS_FRAMES, SOLAR_FRAMES
from handlers.obscore.readers import KeywordReader, Keywords, Lookup, number, position
from handlers.threads.thread_warnings import ignored

# Besselian equinoxes for FK4, Julian for the rest (as FITS WCS paper II says).
_EQUINOX_FORMATS = {
    "fk4": "byear", "fk4noeterms": "byear", "fk5": "jyear", "barycentricmeanecliptic": "jyear",
}
#: Where no celestial WCS gives a position: the field's centre first (the mean and nominal
#: pointing of X-ray and gamma-ray files, OGIP: Chandra, XMM-Newton, Swift, Suzaku, NuSTAR),
#: then the target (HST's RA_TARG, JWST's TARG_RA, OGIP's RA_OBJ, NOIRLab's OBJRA), then the
#: telescope's RA/DEC (ground-based) and the OBJCTRA/OBJCTDEC of amateur cameras (MaxIm DL, SBIG).
TARGET_KEYWORDS = (
    ("RA_PNT", "DEC_PNT"), ("RA_NOM", "DEC_NOM"), ("RA_TARG", "DEC_TARG"), ("TARG_RA", "TARG_DEC"),
    ("RA_OBJ", "DEC_OBJ"), ("OBJRA", "OBJDEC"), ("RA", "DEC"), ("OBJCTRA", "OBJCTDEC"),
)
#: The whole sky as an ADQL region: a circle of 180 degrees about any point holds every direction.
ALL_SKY_RADIUS = 180.0
#: Solar frames whose angles are the observer's view (a field of view); heliographic ones are on the Sun.
_OBSERVER_CENTRED = frozenset({"helioprojective"})


def spatial(lookup: Lookup) -> SpatialFields:
    """The celestial WCS's coverage, else a position from the header's keywords (``TARGET_KEYWORDS``)."""
    wcs = next((hdu["wcs"] for hdu in lookup.hdus if hdu.get("wcs")), None)
    sky = _wcs_coverage(wcs, lookup.note)
    if wcs is None and (frame := lookup.find(full_sky_healpix)):
        sky.update(_whole_sky(_to_icrs([[0.0, 0.0]], frame, None)[0]))
    if sky["s_ra"] is None:
        sky["s_ra"], sky["s_dec"] = lookup.find(*(_icrs_position(*pair) for pair in TARGET_KEYWORDS)) or (None, None)
    pixels = wcs.get("pixels") if wcs else None
    return {
        "s_ra": lookup.finite("s_ra", sky["s_ra"]),
        "s_dec": lookup.finite("s_dec", sky["s_dec"]),
        "s_fov": lookup.finite("s_fov", sky["s_fov"]),
        "s_region": sky["s_region"],
        "s_resolution": lookup.finite("s_resolution", lookup.find(*RESOLUTION_READERS)),
        "s_xel1": pixels[0] if pixels else None,
        "s_xel2": pixels[1] if pixels else None,
    }


#: Equinoxes, in years, that a header can mean: beyond them erfa's precession gives numbers, not positions.
_EQUINOX_YEARS = (1000.0, 3000.0)


def _icrs_position(ra_keyword: str, dec_keyword: str) -> KeywordReader:
    """A header position converted to ICRS from the frame its header states (``_header_frame``)."""
    read = position(ra_keyword, dec_keyword)

    def convert(keywords: Keywords) -> tuple[float, float] | None:
        found = read(keywords)
        if found is None:
            return None
        frame, equinox = _header_frame(keywords)
        try:
            return _to_icrs([list(found)], frame, equinox)[0]
        except ValueError as exc:
            raise ValueError(f"{ra_keyword}={keywords.get(ra_keyword)!r} {dec_keyword}="
                             f"{keywords.get(dec_keyword)!r}: {exc}") from exc

    return convert


def _header_frame(keywords: Keywords) -> tuple[str, Any]:
    """The frame and equinox of a header's equatorial positions, by FITS WCS paper II's defaults:
    RADESYS (RADECSYS before it), else FK4 for an EQUINOX (EPOCH before it) before 1984 and FK5
    from then, else ICRS."""
    equinox = keywords.get("EQUINOX", keywords.get("EPOCH"))
    system = keywords.get("RADESYS", keywords.get("RADECSYS"))
    if isinstance(system, str) and system.strip():
        frame = RADESYS_FRAMES.get(system.strip().upper())
        if frame is None:
            raise ValueError(f"RADESYS={system!r} is no equatorial frame this record converts")
        return frame, equinox
    if isinstance(equinox, int | float) and not isinstance(equinox, bool):
        return ("fk4" if equinox < 1984 else "fk5"), equinox
    return "icrs", None


def _arcsec(keyword: str, arcsec_per_unit: float) -> KeywordReader:
    """A resolution (a FWHM) under ``keyword`` in arcsec; zero is no resolution."""
    read = number(keyword, 0)

    def convert(keywords: Keywords) -> float | None:
        value = read(keywords)
        if value == 0:
            raise ValueError(f"{keyword}=0 is no resolution")
        return None if value is None else value * arcsec_per_unit

    return convert


#: The spatial resolution where the header states it, in a unit its convention fixes: the radio
#: beam's major axis (BMAJ, degrees: AIPS, CASA), ESO's Phase 3 PSF_FWHM (images) and SKY_RES
#: (cubes, spectra), in arcsec.  Not SEEING (pixels in UKIDSS, arcsec elsewhere) and never the
#: pixel scale: a pixel is the sampling, not the resolution (a drizzled HST image's 0.05" pixels, its 0.1" PSF).
RESOLUTION_READERS = (_arcsec("BMAJ", 3600.0), _arcsec("PSF_FWHM", 1.0), _arcsec("SKY_RES", 1.0))


def _wcs_coverage(wcs: CelestialWcs | None, note: Callable[[str], None]) -> dict[str, Any]:
    """Centre, field of view and region (ICRS) of the first image's celestial WCS.

    A solar frame's is no position on the sky (only a helioprojective field of view is given).
    All null, and noted, where the WCS's frame cannot be converted to ICRS or the
    conversion gives no finite position (an equinox far beyond any epoch does).
    """
    sky: dict[str, Any] = dict.fromkeys(("s_ra", "s_dec", "s_fov", "s_region"))
    if wcs is None:
        return sky
    frame = wcs.get("frame")
    if frame in SOLAR_FRAMES.values():
        if frame in _OBSERVER_CENTRED and wcs["footprint"]:
            sky["s_fov"] = _diameter(wcs["centre"], wcs["footprint"])
        return sky
    refused = (
        "s_ra, s_dec, s_fov and s_region not taken from the celestial WCS"
        f" (frame {frame!r}, equinox {wcs.get('equinox')!r})"
    )
    try:
        centre, *outline = _to_icrs([wcs["centre"], *wcs["footprint"]], frame, wcs.get("equinox"))
    except (ValueError, TypeError) as exc:
        reason = " ".join(str(exc).split())  # astropy's messages run over lines
        note(f"{refused}: it cannot be converted to ICRS: {reason}")
        return sky
    if not all(math.isfinite(x) for point in (centre, *outline) for x in point):
        note(f"{refused}: its position in ICRS is not finite")
        return sky
    sky.update(s_ra=centre[0], s_dec=centre[1])
    if wcs.get("all_sky"):
        sky.update(_whole_sky(centre))
    elif outline:
        sky.update(
            s_fov=_diameter(centre, outline),
            s_region="POLYGON ICRS " + " ".join(f"{x:.7f}" for vertex in outline for x in vertex),
        )
    else:
        note("s_fov and s_region not given: the image spans every longitude of its frame, a band no polygon describes")
    return sky


def _whole_sky(centre: Sequence[float]) -> dict[str, Any]:
    """The whole sky about ``centre`` (ICRS degrees): a circle of 180 degrees, its diameter the field of view."""
    return {"s_ra": centre[0], "s_dec": centre[1], "s_fov": 2 * ALL_SKY_RADIUS,
            "s_region": f"CIRCLE ICRS {centre[0]:.7f} {centre[1]:.7f} {ALL_SKY_RADIUS}"}


#: HEALPix's COORDSYS (Gorski et al. 2005; the HEALPix FITS convention) as astropy frames.
_HEALPIX_FRAMES = {"G": "galactic", "E": "barycentricmeanecliptic", "C": "icrs", "Q": "icrs"}


def full_sky_healpix(keywords: Keywords) -> str | None:
    """The frame of a HEALPix map of the whole sky (a table of pixels: no WCS), else None.

    The HEALPix FITS convention says so by OBJECT = 'FULLSKY', or by an implicit index of
    every pixel (FIRSTPIX = 0, LASTPIX = 12 NSIDE^2 - 1); a partial map's pixels are in its data.
    """
    if _word(keywords, "PIXTYPE") != "HEALPIX":
        return None
    whole = _word(keywords, "OBJECT") == "FULLSKY"
    if not whole and _word(keywords, "INDXSCHM") != "EXPLICIT":
        nside, first, last = (number(key, 0)(keywords) for key in ("NSIDE", "FIRSTPIX", "LASTPIX"))
        whole = nside is not None and first == 0 and last == 12 * nside**2 - 1
    if not whole:
        return None
    system = _word(keywords, "COORDSYS")
    if system[:1] not in _HEALPIX_FRAMES:
        raise ValueError(f"COORDSYS={keywords.get('COORDSYS')!r} is no HEALPix coordinate system (G, E, C or Q)")
    return _HEALPIX_FRAMES[system[:1]]


def _word(keywords: Keywords, keyword: str) -> str:
    value = keywords.get(keyword)
    return value.strip().upper() if isinstance(value, str) else ""


def _diameter(centre: Sequence[float], outline: Sequence[Sequence[float]]) -> float:
    """s_fov (degrees): the diameter of the circle about the centre that holds every vertex."""
    from astropy.coordinates import angular_separation

    radii = [angular_separation(*map(math.radians, (*centre, *vertex))) for vertex in outline]
    return math.degrees(2 * max(radii))


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
        if not _EQUINOX_YEARS[0] <= equinox <= _EQUINOX_YEARS[1]:
            raise ValueError(f"the equinox {equinox!r} is no year from {_EQUINOX_YEARS[0]:.0f} to "
                             f"{_EQUINOX_YEARS[1]:.0f}")
        options["equinox"] = Time(equinox, format=_EQUINOX_FORMATS[frame])
    lon, lat = [point[0] for point in points], [point[1] for point in points]
    with ignored():  # an absurd equinox overflows in erfa: the caller checks the result
        icrs = SkyCoord(lon, lat, unit="deg", frame=frame, **options).icrs
    return list(zip(icrs.ra.degree.tolist(), icrs.dec.degree.tolist(), strict=True))
