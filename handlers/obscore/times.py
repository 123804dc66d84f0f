"""Temporal coverage: start, end (MJD, UTC), exposure, resolution and samples of the observation.

Each field is the first value its keywords give, header by header (``Lookup.find``), the
keywords of one header in the order below; the README's ``summary`` table lists them:

- ``t_min``: EXPSTART, MJD-BEG, MJD-OBS, TSTART, DATE-BEG, DATE-OBS (+TIME-OBS), DATE_OBS
  (+TIME_OBS): numbers, which keep full precision, before dates written to the second.
- ``t_max``: EXPEND, MJD-END, TSTOP, DATE-END (+TIME-END), DATE_END (+TIME_END); else
  ``t_min`` plus the exposure.
- ``t_exptime``: EXPOSURE, LIVETIME (an event list's dead-time-corrected totals), XPOSURE
  (solar data's total of summed exposures), EXPTIME (an X-ray frame time where the others
  exist), EXP_TIME, TEXPTIME, ITIME.
- ``t_resolution``: TIMEDEL, else the step of a linear time axis (CTYPEi TIME, UTC, TT...;
  not a tabulated ``-TAB`` one), in CUNITi.
- ``t_xel``: a time axis's length, else a light curve's samples: the rows times the
  repeat count of the TIME column of the first table that has one.  An event list (EXTNAME
  or HDUCLAS1 EVENTS) has no bins, so its events are not counted; nor are the rows of the
  antenna, weather and flag tables of a UVFITS file (EXTNAME 'AIPS xx').
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from handlers.documents import HduDocument, TemporalFields
from handlers.fits.format import is_image, is_table
from handlers.obscore.axes import axis_types
from handlers.obscore.dates import (
    SCALES,
    iso_date,
    scale_of,
    unit_seconds,
    utc_mjd,
    utc_mjd_of_date,
)
from handlers.obscore.readers import Header, Lookup, Reader, number

#: Keywords whose numbers are in TIMEUNIT (FITS Standard 4.0, section 9.3) unless their comment says.
_IN_TIMEUNIT = frozenset({"TSTART", "TSTOP", "TIMEDEL", "EXPOSURE", "LIVETIME", "TIMEZERO"})
#: The reference instant of elapsed times: an integer and a fraction day, and what to add for an MJD.
_REFERENCES = (("MJDREFI", "MJDREFF", 0.0), ("MJDREF", None, 0.0), ("JDREFI", "JDREFF", -2400000.5),
               ("JDREF", None, -2400000.5))
#: CTYPEi of a time axis: TIME, or the scale the axis is in (FITS Standard 4.0, section 9.4).
_TIME_AXES = frozenset({"TIME", *SCALES})
_REPEAT = re.compile(r"(\d*)[LXBIJKAEDCM]")


def temporal(lookup: Lookup) -> TemporalFields:
    """t_min and t_max (MJD, UTC), t_exptime and t_resolution (s), t_xel; null where unknown."""
    primary_scale = lookup.headers[0].get("TIMESYS") if lookup.headers else None
    t_exptime = lookup.find(*(
        duration(key) for key in ("EXPOSURE", "LIVETIME", "XPOSURE", "EXPTIME", "EXP_TIME", "TEXPTIME", "ITIME")
    ))
    t_min = lookup.find(
        *(mjd(key, primary_scale) for key in ("EXPSTART", "MJD-BEG", "MJD-OBS")),
        elapsed("TSTART", primary_scale),
        date("DATE-BEG", None, primary_scale),
        date("DATE-OBS", "TIME-OBS", primary_scale),
        date("DATE_OBS", "TIME_OBS", primary_scale),
    )
    t_max = lookup.find(
        *(mjd(key, primary_scale) for key in ("EXPEND", "MJD-END")),
        elapsed("TSTOP", primary_scale),
        date("DATE-END", "TIME-END", primary_scale),
        date("DATE_END", "TIME_END", primary_scale),
    )
    if t_max is None and t_min is not None and t_exptime is not None:
        t_max = t_min + t_exptime / 86400  # overflows for values near the largest float
    axis = _time_axis(lookup)
    timedel = lookup.find(duration("TIMEDEL"))
    return {
        "t_min": lookup.finite("t_min", t_min),
        "t_max": lookup.finite("t_max", t_max),
        "t_exptime": lookup.finite("t_exptime", t_exptime),
        "t_resolution": lookup.finite("t_resolution", axis[0] if timedel is None else timedel),
        "t_xel": axis[1] if axis[1] is not None else _light_curve_samples(lookup.hdus, lookup.headers),
    }


def mjd(keyword: str, primary_scale: object) -> Reader:
    """An MJD in the keyword's scale (``dates.scale_of``)."""
    read_number = number(keyword)

    def read(header: Header) -> float | None:
        value = read_number(header)
        if value is None:
            return None
        day = value // 1
        with _naming(keyword, value):
            return utc_mjd(day, value - day, scale_of(header, keyword, primary_scale))

    return read


def date(keyword: str, clock_keyword: str | None, primary_scale: object) -> Reader:
    """A date in one of the forms of ``dates.iso_date``, the time of day from ``clock_keyword``
    where the date has none, in the keyword's scale (UTC where it ends with ISO 8601's Z)."""

    def read(header: Header) -> float | None:
        value = header.get(keyword)
        if value is None:
            return None
        clock = header.get(clock_keyword) if clock_keyword else None
        given = f"{keyword}={value!r}" + (f" {clock_keyword}={clock!r}" if clock is not None else "")
        if not isinstance(value, str) or not isinstance(clock, (str, type(None))):
            raise TypeError(f"{given} is not a date and time")
        try:
            text = iso_date(value.strip(), header.comment(keyword))
            if clock is not None and "T" not in text:
                text = f"{text}T{clock.strip()}"
            if text.endswith("Z"):  # ISO 8601's mark of UTC, whatever TIMESYS says
                return utc_mjd_of_date(text[:-1], "UTC")
            return utc_mjd_of_date(text, scale_of(header, keyword, primary_scale))
        except ValueError as exc:
            raise ValueError(f"{given} {exc}") from None

    return read


def elapsed(keyword: str, primary_scale: object) -> Reader:
    """A time counted from the header's reference instant (MJDREF, MJDREFI+MJDREFF, JDREF...),
    in TIMEUNIT, plus TIMEZERO: an X-ray mission's TSTART/TSTOP."""
    read_number = number(keyword)

    def read(header: Header) -> float | None:
        value = read_number(header)
        if value is None:
            return None
        reference = _reference(header)
        with _naming(keyword, value):
            if reference is None:
                raise ValueError("counts from no MJDREF, MJDREFI/MJDREFF or JDREF")
            seconds = (value + (number("TIMEZERO")(header) or 0.0)) * _seconds_per(header, keyword)
            return utc_mjd(reference[0], reference[1] + seconds / 86400, scale_of(header, keyword, primary_scale))

    return read


def duration(keyword: str) -> Reader:
    """A duration >= 0 in seconds: in the unit its comment opens with (``[d]``), else in
    TIMEUNIT for the keywords the Standard puts in it, else in seconds."""
    read_number = number(keyword, 0)

    def read(header: Header) -> float | None:
        value = read_number(header)
        if value is None:
            return None
        with _naming(keyword, value):
            return value * _seconds_per(header, keyword)

    return read


@contextmanager
def _naming(keyword: str, value: object) -> Iterator[None]:
    """A ValueError raised in the block, its message led by the card it refuses."""
    try:
        yield
    except ValueError as exc:
        raise ValueError(f"{keyword}={value!r} {exc}") from None


def _seconds_per(header: Header, keyword: str) -> float:
    """Seconds per unit of ``keyword``'s number (``duration``'s rule)."""
    unit = header.comment_unit(keyword)
    if unit is not None:
        return unit_seconds(unit, "its comment")
    if keyword in _IN_TIMEUNIT and header.get("TIMEUNIT") is not None:
        return unit_seconds(header["TIMEUNIT"], "TIMEUNIT")
    return 1.0


def _reference(header: Header) -> tuple[float, float] | None:
    """The reference instant as an MJD's (day, fraction), from the first keywords that give it."""
    for whole, part, to_mjd in _REFERENCES:
        day = number(whole)(header)
        if day is not None:
            fraction = (number(part)(header) if part else None) or 0.0
            return day + to_mjd, fraction
    return None


def _time_axis(lookup: Lookup) -> tuple[float | None, int | None]:
    """(step in seconds, length) of the first image's time axis: CDELTi (or CDi_i) in CUNITi
    (seconds without one) and NAXISi; (None, None) where no image has one."""
    for hdu, header in zip(lookup.hdus, lookup.headers, strict=True):
        if not is_image(hdu.get("type")):
            continue
        for n, ctype in enumerate(axis_types(header), start=1):
            if ctype.split("-")[0] not in _TIME_AXES:
                continue
            naxis = header.get("NAXIS")
            # An axis beyond NAXIS (WCSAXES > NAXIS) is one pixel wide, whatever a stray NAXISn says.
            length = header.get(f"NAXIS{n}") if isinstance(naxis, int) and n <= naxis else 1
            seconds = None if ctype.endswith("-TAB") else _axis_step(lookup, header, n)
            return seconds, length if isinstance(length, int) and not isinstance(length, bool) else None
    return None, None


def _axis_step(lookup: Lookup, header: Header, n: int) -> float | None:
    """Seconds per pixel of the linear time axis ``n``; None (noted where the unit is wrong) if unknown."""
    keyword = f"CDELT{n}" if f"CDELT{n}" in header else f"CD{n}_{n}"
    try:
        step = number(keyword)(header)
        unit = header.get(f"CUNIT{n}") or "s"  # seconds by default (FITS Standard 4.0, section 9.3)
        with _naming(keyword, step):
            return None if step is None else abs(step) * unit_seconds(unit, f"CUNIT{n}")
    except ValueError as exc:
        lookup.note(f"{exc}: t_resolution not taken from the time axis {n}")
        return None


def _light_curve_samples(hdus: Sequence[HduDocument], headers: Sequence[Header]) -> int | None:
    """Rows times the TIME column's repeat count of the first table with one that is no event
    list and none of the tables that AIPS writes beside visibilities (antennas, weather, flags)."""
    for hdu, header in zip(hdus, headers, strict=True):
        name = _upper(header.get("EXTNAME")) or ""
        events = "EVENTS" in (name, _upper(header.get("HDUCLAS1")))
        if not is_table(hdu.get("type")) or events or name.startswith("AIPS "):
            continue
        for column in hdu.get("columns", []):
            repeat = _REPEAT.fullmatch((column["format"] or "").strip().upper())
            if _upper(column["name"]) == "TIME" and repeat and isinstance(hdu.get("rows"), int):
                return hdu["rows"] * int(repeat.group(1) or 1)
    return None


def _upper(value: object) -> str | None:
    return value.strip().upper() if isinstance(value, str) else None
