"""Unit strings from headers, looked at before astropy parses them."""

from __future__ import annotations

import re

from handlers.fits.format import CARD

#: An exponent of four digits or more: astropy raises 10 to it as an integer, which never ends
#: (``10**9999999 Jy`` takes seconds, one digit more minutes).
_HUGE_EXPONENT = re.compile(r"(?:\*\*|\^|[+-])\s*\(?\s*[-+]?\s*\d{4,}")
#: No card's value field is longer (columns 11 to 80).
MAX_UNIT_LENGTH = CARD - 10


def parsable(unit: str) -> bool:
    """Whether ``unit`` may be handed to astropy: no longer than a card's value, no huge exponent."""
    return len(unit) <= MAX_UNIT_LENGTH and not _HUGE_EXPONENT.search(unit)
