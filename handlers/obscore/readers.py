"""Readers of header keywords: each takes one HDU's ``Header`` and gives a value or None.

Instruments spell the same facts differently (EXPSTART or MJD-OBS or DATE-OBS...); a field
is the first value that a list of readers finds, header by header (``find``).  A reader
raises ValueError or TypeError, naming the card, for a value it cannot use, which ``find``
notes in the document's warnings and skips.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from handlers.documents import Card, HduDocument
from handlers.fits.cards import first_values

logger = logging.getLogger(__name__)

_UNIT_IN_COMMENT = re.compile(r"\s*\[([^\]]*)\]")

Keywords = Mapping[str, Any]

#: Values that say there is no value (GBM writes FILTER = 'None'), compared upper-cased and stripped.
PLACEHOLDERS = frozenset({"", "NONE", "N/A", "UNKNOWN"})


def is_placeholder(value: Any) -> bool:
    """Whether a card's ``value`` is a header's way of saying it has none (``PLACEHOLDERS``).

    Asked of every card, so a long value (never a placeholder: trailing blanks are not kept)
    is told apart by its length alone.
    """
    return type(value) is str and len(value) <= 16 and value.strip().upper() in PLACEHOLDERS


class Header(Mapping[str, Any]):
    """One HDU's keywords with their first values, and those cards' comments.

    Some values mean nothing without their comment: ``DATE-OBS = '07/06/2011'`` is a
    June or a July date as the comment says ``dd/mm/yyyy`` or ``mm/dd/yyyy``.  A keyword
    whose value only says there is none (``PLACEHOLDERS``) is left out, for every field.
    """

    def __init__(self, cards: Iterable[Card]) -> None:
        parsed = [card for card in cards if not card.get("unparsed")]
        self._values = {keyword: value for keyword, value in first_values(parsed).items() if not is_placeholder(value)}
        self._comments: dict[str, str] = {}
        for card in parsed:
            self._comments.setdefault(card["keyword"], card.get("comment") or "")

    def __getitem__(self, keyword: str) -> Any:
        return self._values[keyword]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def get(self, keyword: str, default: Any = None) -> Any:
        """The dict's own ``get``: Mapping's goes through ``__getitem__`` and a KeyError each miss."""
        return self._values.get(keyword, default)

    def comment(self, keyword: str) -> str:
        """The comment of the keyword's first card, '' where it has none."""
        return self._comments.get(keyword, "")

    def comment_unit(self, keyword: str) -> str | None:
        """The unit the keyword's comment opens with, ``[d]`` by the FITS convention for units
        (FITS 4.0, section 4.3.2), as written ('' for ``[]``); None where it opens with none."""
        given = _UNIT_IN_COMMENT.match(self.comment(keyword))
        return given.group(1) if given else None


#: What ``Lookup.find`` takes: a reader of one HDU's header.
Reader = Callable[[Header], Any]
#: A reader of values alone, which also reads a Header.
KeywordReader = Callable[[Keywords], Any]


@dataclass(frozen=True)
class Lookup:
    """The file's HDU documents and their keywords, and where a field's refusal is noted."""

    hdus: Sequence[HduDocument]
    #: Each HDU's keywords with their first values and comments, in file order.
    headers: Sequence[Header]
    #: Receives why a field the header seemed to give is null (the document's ``warnings``).
    notes: list[str] | None = None

    @classmethod
    def of(cls, hdus: Sequence[HduDocument], notes: list[str] | None = None) -> Lookup:
        return cls(hdus, [Header(hdu["cards"]) for hdu in hdus], notes)

    def find(self, *readers: Reader) -> Any:
        """The first value a reader finds, header by header; a value it refuses is noted and skipped."""
        for header in self.headers:
            for read in readers:
                try:
                    value = read(header)
                except (ValueError, TypeError, ArithmeticError) as exc:
                    self.note(f"{exc}: not used")
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


def text(keyword: str) -> KeywordReader:
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


def filter_name(keyword: str) -> KeywordReader:
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


def number(keyword: str, minimum: float = -math.inf) -> KeywordReader:
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


def position(ra_keyword: str, dec_keyword: str) -> KeywordReader:
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
