"""Pure: per-HDU documents -> observation fields named after IVOA ObsCore.

Instruments spell the same facts differently (EXPSTART or MJD-OBS or DATE-OBS...);
this module normalizes them so that users can search one set of fields.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from handlers.documents import HduDocument, Summary
from handlers.fits.cards import first_values
from handlers.fits.format import is_image, is_table
from handlers.threads.thread_warnings import ignored

logger = logging.getLogger(__name__)

Keywords = Mapping[str, Any]
Reader = Callable[[Keywords], Any]

# Besselian equinoxes for FK4, Julian for the rest (as FITS WCS paper II says).
_EQUINOX_FORMATS = {
    "fk4": "byear", "fk4noeterms": "byear", "fk5": "jyear", "barycentricmeanecliptic": "jyear",
}


def observation_summary(hdus: Sequence[HduDocument], notes: list[str] | None = None) -> Summary:
    """ObsCore-named fields (null when unknown) from the documents of describe_hdu.

    Parameters:
        hdus: the file's HDU documents, in file order.
        notes: where given, receives why a field the header seemed to give is null
            (for the metadata document's ``warnings``); it is logged either way.

    Each keyword is looked up in the primary header first, then in the extensions in
    order; the first usable value wins, and an unusable one is logged and skipped.
    Every number is finite or null: an infinite ``t_max`` or a NaN ``s_ra`` is no fact of
    the observation, so it is left null with a warning (the HDU's cards keep what the
    header says).  ``filter`` is not ObsCore (which has no filter field) but what users search by.
    """
    note = partial(_note, notes)
    finite = partial(_finite, note)
    find = partial(_find, [first_values(hdu["cards"]) for hdu in hdus])
    t_exptime = find(*(_number(key, 0) for key in ("EXPTIME", "EXPOSURE", "TEXPTIME", "ITIME")))
    t_min = find(
        _number("EXPSTART"), _number("MJD-OBS"), _number("MJD-BEG"),
        _date("DATE-OBS", "TIME-OBS"), _date("DATE-BEG"),
    )
    t_max = find(_number("EXPEND"), _number("MJD-END"), _date("DATE-END"))
    if t_max is None and t_min is not None and t_exptime is not None:
        t_max = t_min + t_exptime / 86400  # overflows for values near the largest float
    instrument = find(_text("INSTRUME"))
    detector = find(_text("DETECTOR"))
    sky = _sky(hdus, note)
    if sky["s_ra"] is None:
        pairs = (("RA_TARG", "DEC_TARG"), ("RA", "DEC"), ("OBJCTRA", "OBJCTDEC"))
        sky["s_ra"], sky["s_dec"] = find(*(_position(*pair) for pair in pairs)) or (None, None)
    return {
        "dataproduct_type": _dataproduct_type(hdus),
        "obs_collection": find(_text("TELESCOP")),
        "facility_name": find(_text("TELESCOP"), _text("OBSERVAT")),
        "instrument_name": f"{instrument}/{detector}" if instrument and detector else instrument,
        "target_name": find(_text("OBJECT"), _text("TARGNAME")),
        "obs_id": find(_text("OBS_ID"), _text("ROOTNAME"), _text("OBSID"), _text("EXPID")),
        "s_ra": finite("s_ra", sky["s_ra"]),
        "s_dec": finite("s_dec", sky["s_dec"]),
        "s_fov": finite("s_fov", sky["s_fov"]),
        "s_region": sky["s_region"],
        "t_min": finite("t_min", t_min),
        "t_max": finite("t_max", t_max),
        "t_exptime": finite("t_exptime", t_exptime),
        "filter": find(*map(_filter, ("FILTER", "FILTER1", "FILTER2", "FILTNAM1", "FILTNAM2"))),
    }


def _note(notes: list[str] | None, message: str) -> None:
    """Why a summary field is null: logged, and kept for the document's warnings where asked."""
    logger.warning("summary: %s", message)
    if notes is not None:
        notes.append(f"summary: {message}")


def _finite(note: Callable[[str], None], name: str, value: float | None) -> float | None:
    """``value``, or None (noted) where it is NaN or an infinity."""
    if value is None or math.isfinite(value):
        return value
    note(f"{name} = {value!r} is not a finite number: left null")
    return None


def _dataproduct_type(hdus: Sequence[HduDocument]) -> str | None:
    """The first image with data decides; a file whose data are all tables holds measurements."""
    images = [
        hdu["shape"]
        for hdu in hdus
        if is_image(hdu.get("type")) and hdu.get("shape") and math.prod(hdu["shape"])
    ]
    for shape in images:
        axes = sum(n > 1 for n in shape)  # a degenerate axis (NAXISn = 1) is no dimension
        if axes >= 2:
            return "cube" if axes >= 3 else "image"
    if not images and any(is_table(hdu.get("type")) for hdu in hdus):
        return "measurements"
    return None


def _find(headers: Sequence[Keywords], *readers: Reader) -> Any:
    """The first value a reader finds, header by header; bad values are logged and skipped."""
    for keywords in headers:
        for read in readers:
            try:
                value = read(keywords)
            except (ValueError, TypeError, ArithmeticError) as exc:
                logger.warning("ignoring a header value: %s", exc)
                continue
            if value is not None:
                return value
    return None


def _text(keyword: str) -> Reader:
    """Text (or an integer, as some missions write identifiers) under ``keyword``."""

    def read(keywords: Keywords) -> str | None:
        value = keywords.get(keyword)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise TypeError(f"{keyword}={value!r} is not text")
        return str(value).strip() or None

    return read


def _filter(keyword: str) -> Reader:
    """A filter name; an empty wheel slot (ACS and WFPC2 write CLEAR...) is no filter."""
    text = _text(keyword)

    def read(keywords: Keywords) -> str | None:
        name = text(keywords)
        return None if name is None or name.upper().startswith(("CLEAR", "N/A")) else name

    return read


def _number(keyword: str, minimum: float = -math.inf) -> Reader:
    """A finite number (or numeric text) no less than ``minimum`` under ``keyword``."""

    def read(keywords: Keywords) -> float | None:
        value = keywords.get(keyword)
        if value is None:
            return None
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if isinstance(value, bool) or not minimum <= number < math.inf:
            raise ValueError(f"{keyword}={value!r} is not a number >= {minimum}")
        return number

    return read


_OLD_FITS_DATE = re.compile(r"(\d\d)/(\d\d)/(\d\d)")


def _date(keyword: str, time_keyword: str | None = None) -> Reader:
    """An ISO date as MJD (UTC); the time of day from ``time_keyword`` if the date has none."""

    def read(keywords: Keywords) -> float | None:
        value = keywords.get(keyword)
        if value is None:
            return None
        clock = keywords.get(time_keyword) if time_keyword else None
        given = f"{keyword}={value!r}" + (f" {time_keyword}={clock!r}" if clock is not None else "")
        if not isinstance(value, str) or not isinstance(clock, (str, type(None))):
            raise TypeError(f"{given} is not a date and time")
        text = _iso_date(value.strip())
        if clock is not None and "T" not in text:
            text = f"{text}T{clock.strip()}"
        from astropy.time import Time

        with ignored():  # ErfaWarning: "dubious year"
            try:
                return float(Time(text, scale="utc").mjd)
            except ValueError:
                raise ValueError(f"{given} is not an ISO date (YYYY-MM-DD[Thh:mm:ss])") from None

    return read


def _iso_date(text: str) -> str:
    """FITS before 1999 wrote dates as 'DD/MM/YY', meaning 19YY (FITS standard 4.4.2.1)."""
    match = _OLD_FITS_DATE.fullmatch(text)
    if match is None:
        return text
    day, month, year = match.groups()
    return f"19{year}-{month}-{day}"


def _position(ra_keyword: str, dec_keyword: str) -> Reader:
    """(RA, Dec) in degrees from numbers of degrees or sexagesimal text (RA in hours)."""

    def read(keywords: Keywords) -> tuple[float, float] | None:
        ra, dec = keywords.get(ra_keyword), keywords.get(dec_keyword)
        if ra is None or dec is None:
            return None
        given = f"{ra_keyword}={ra!r} {dec_keyword}={dec!r}"
        try:
            position = _degrees(ra, "hourangle"), _degrees(dec, "deg")
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{given}: {exc}") from exc
        if not (0 <= position[0] < 360 and -90 <= position[1] <= 90):
            raise ValueError(f"{given} is off the sky")
        return position

    return read


def _degrees(value: Any, sexagesimal_unit: str) -> float:
    """Degrees from a number or numeric text, else from sexagesimal text in ``sexagesimal_unit``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError(f"{value!r} is not an angle")
    try:
        return float(value)
    except ValueError:
        from astropy.coordinates import Angle

        return float(Angle(value, unit=sexagesimal_unit).degree)


def _sky(hdus: Sequence[HduDocument], note: Callable[[str], None]) -> dict[str, Any]:
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
