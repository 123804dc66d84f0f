"""Readers of header keywords: each takes one HDU's first values and gives a value or None.

Instruments spell the same facts differently (EXPSTART or MJD-OBS or DATE-OBS...); a field
is the first value that a list of readers finds, header by header (``find``).  A reader
raises ValueError or TypeError for a value it cannot use, which ``find`` notes (the
document's ``warnings``, naming the card) and skips.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from handlers.documents import HduDocument
from handlers.fits.cards import first_values
from handlers.threads.thread_warnings import ignored

logger = logging.getLogger(__name__)

Keywords = Mapping[str, Any]
Reader = Callable[[Keywords], Any]

#: Values that say there is no value (GBM writes FILTER = 'None'), compared upper-cased and stripped.
PLACEHOLDERS = frozenset({"", "NONE", "N/A", "UNKNOWN"})


def is_placeholder(value: Any) -> bool:
    """Whether a card's ``value`` is a header's way of saying it has none (``PLACEHOLDERS``).

    Asked of every card, so a long value (never a placeholder: trailing blanks are not kept)
    is told apart by its length alone.
    """
    return type(value) is str and len(value) <= 16 and value.strip().upper() in PLACEHOLDERS


@dataclass(frozen=True)
class Lookup:
    """The file's HDU documents and their keywords, and where a field's refusal is noted."""

    hdus: Sequence[HduDocument]
    #: Each HDU's keywords with their first values, in file order; a placeholder is no value.
    headers: Sequence[Keywords]
    #: Receives why a field the header seemed to give is null (the document's ``warnings``).
    notes: list[str] | None = None

    @classmethod
    def of(cls, hdus: Sequence[HduDocument], notes: list[str] | None = None) -> Lookup:
        """Keywords whose value only says there is none (``PLACEHOLDERS``) are left out, for every field."""
        headers = [
            {keyword: value for keyword, value in first_values(hdu["cards"]).items() if not is_placeholder(value)}
            for hdu in hdus
        ]
        return cls(hdus, headers, notes)

    def find(self, *readers: Reader) -> Any:
        """The first value a reader finds, header by header; bad values are noted and skipped."""
        for keywords in self.headers:
            for read in readers:
                try:
                    value = read(keywords)
                except (ValueError, TypeError, ArithmeticError) as exc:
                    self.note(f"ignoring a header value: {exc}")
                    continue
                if value is not None:
                    return value
        return None

    def note(self, message: str) -> None:
        """Why a summary field is null: logged, and kept for the document's warnings where asked."""
        logger.warning("summary: %s", message)
        if self.notes is not None:
            self.notes.append(f"summary: {message}")

    def finite(self, name: str, value: float | None) -> float | None:
        """``value``, or None (noted) where it is NaN or an infinity."""
        if value is None or math.isfinite(value):
            return value
        self.note(f"{name} = {value!r} is not a finite number: left null")
        return None


def text(keyword: str) -> Reader:
    """Text (or an integer, as some missions write identifiers) under ``keyword``."""

    def read(keywords: Keywords) -> str | None:
        value = keywords.get(keyword)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise TypeError(f"{keyword}={value!r} is not text")
        return str(value).strip() or None

    return read


_NUMBER = re.compile(r"[+-]?\d+(\.\d*)?")


def filter_name(keyword: str) -> Reader:
    """A filter's name: an empty wheel slot (ACS and WFPC2 write CLEAR...) is no filter, and a
    number is a wheel position, not a name (WFPC2: FILTER1 = 33 beside FILTNAM1 = 'F555W').
    """
    read_text = text(keyword)

    def read(keywords: Keywords) -> str | None:
        name = read_text(keywords)
        if name is None or name.upper().startswith("CLEAR") or _NUMBER.fullmatch(name):
            return None
        return name

    return read


def number(keyword: str, minimum: float = -math.inf) -> Reader:
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


def date(keyword: str, time_keyword: str | None = None) -> Reader:
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


def position(ra_keyword: str, dec_keyword: str) -> Reader:
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
