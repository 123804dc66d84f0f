"""A header's instants as MJD in UTC: the date forms FITS files use, their time scales, their units.

ObsCore gives ``t_min``/``t_max`` as MJD and names no scale; ours are UTC, whatever scale
the file keeps its times in (TIMESYS, FITS Standard 4.0 section 9.2.1), so that two files'
times compare.  UT1 and LOCAL are refused: the one needs Earth-rotation tables that astropy
would download, the other is no scale at all.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from handlers.obscore.readers import Header
from handlers.threads.thread_warnings import ignored

if TYPE_CHECKING:
    from astropy.time import Time

#: FITS time scale codes (the Standard's table 30, with its deprecated spellings, and the
#: common "UT") and the astropy scale each is read in.  GPS is TAI less 19 s (``GPS_LAG_S``).
SCALES = {
    "UTC": "utc", "UT": "utc", "GMT": "utc", "TT": "tt", "TDT": "tt", "ET": "tt", "TAI": "tai",
    "IAT": "tai", "GPS": "tai", "TDB": "tdb", "TCG": "tcg", "TCB": "tcb",
}
#: How far GPS time runs behind TAI, constant since GPS began (1980-01-06).
GPS_LAG_S = 19.0
#: A time unit (TIMEUNIT, CUNITi, or a comment's ``[unit]``) in seconds; ``a`` is the Julian year.
UNIT_SECONDS = {
    "s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9, "min": 60.0, "h": 3600.0, "d": 86400.0,
    "a": 31557600.0, "yr": 31557600.0, "cy": 3155760000.0,
}

_SCALE_IN_COMMENT = re.compile(r"\b(UTC|UT|GMT|TT|TDT|TAI|IAT|TDB|TCG|TCB|GPS)\b")
_SLASHED = re.compile(r"(\d\d)/(\d\d)/(\d\d|\d{4})")
_COMPACT = re.compile(r"(\d{4})(\d\d)(\d\d)")
_ORDER_IN_COMMENT = re.compile(r"\b(dd|mm)/(?:mm|dd)/(?:yyyy|ccyy|yy)\b", re.IGNORECASE)


def scale_of(header: Header, keyword: str, primary_scale: object) -> str:
    """The scale code of ``keyword``'s value: the one its own comment names (``/ TT, start
    date``), else its HDU's TIMESYS, else the primary header's (``primary_scale``), else UTC
    (the Standard's default)."""
    named = _SCALE_IN_COMMENT.search(header.comment(keyword))
    code = named.group(1) if named else header.get("TIMESYS", primary_scale)
    if code is None:
        return "UTC"
    if isinstance(code, str) and code.strip().upper() in SCALES:
        return code.strip().upper()
    raise ValueError(f"is in TIMESYS={code!r}, which has no conversion to UTC")


def utc_mjd(day: float, fraction: float, code: str) -> float:
    """MJD ``day + fraction`` in the scale ``code``, as MJD in UTC (the two parts keep precision)."""
    if SCALES[code] == "utc":
        return day + fraction
    from astropy.time import Time

    with ignored():  # ErfaWarning: "dubious year"
        return _in_utc(Time(day, fraction, format="mjd", scale=SCALES[code]), code)


def utc_mjd_of_date(text: str, code: str) -> float:
    """An ISO date (``YYYY-MM-DD[Thh:mm:ss[.s...]]``) in the scale ``code``, as MJD in UTC."""
    from astropy.time import Time

    with ignored():  # ErfaWarning: "dubious year"
        try:
            time = Time(text, format="fits", scale=SCALES[code])
        except ValueError:
            raise ValueError("is not a date (YYYY-MM-DD[Thh:mm:ss], DD/MM/YY or YYYYMMDD)") from None
        return _in_utc(time, code)


def _in_utc(time: Time, code: str) -> float:
    """``time``, read in the scale ``code``, as MJD in UTC."""
    from astropy.time import TimeDelta

    try:
        return float((time + TimeDelta(GPS_LAG_S, format="sec") if code == "GPS" else time).utc.mjd)
    except ValueError as exc:  # erfa's "unacceptable date" far from any leap-second table
        raise ValueError(f"cannot be converted from {code} to UTC ({exc})") from None


def iso_date(text: str, comment: str) -> str:
    """A date in ISO form from the forms FITS files write: ISO itself; 'DD/MM/YY' (the
    Standard's form before 1999, meaning 19YY); 'YYYYMMDD' (FIRST's '19930417'); and
    'DD/MM/YYYY' or 'MM/DD/YYYY' where the card's comment says which (GOES's ``dd/mm/yyyy``)."""
    compact = _COMPACT.fullmatch(text)
    if compact:
        return "-".join(compact.groups())
    slashed = _SLASHED.fullmatch(text)
    if slashed is None:
        return text
    first, second, year = slashed.groups()
    order = _ORDER_IN_COMMENT.search(comment)
    if order is None and len(year) == 4:
        raise ValueError("is DD/MM/YYYY or MM/DD/YYYY, and its comment does not say which")
    day, month = (second, first) if order and order.group(1).lower() == "mm" else (first, second)
    return f"{'19' + year if len(year) == 2 else year}-{month}-{day}"


def unit_seconds(unit: object, where: str) -> float:
    """Seconds in a time ``unit`` ('s', 'd'...); ``where`` says what gives it (TIMEUNIT, its comment...)."""
    seconds = UNIT_SECONDS.get(unit.strip()) if isinstance(unit, str) else None
    if seconds is None:
        raise ValueError(f"is in the unit {unit!r} of {where}, which is not a unit of time ({', '.join(UNIT_SECONDS)})")
    return seconds
