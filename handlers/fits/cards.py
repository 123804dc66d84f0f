"""Pure: FITS header cards to strict-JSON documents, with astropy's reading of each card.

Each value is encoded as ``fits.json_values`` encodes every value of a document.

astropy's ``Card`` parses lazily through properties: each card looks up astropy's
configuration three times (each lookup goes through configobj and a validator) and
splits the card again for its value and for its comment, which makes it most of the
header work of a small file (docs/measurements.md).  ``header_cards`` reads the text of a header as
the file holds it: a standard card (an upper-case FITS keyword, ``= `` in columns 9-10,
a string, logical, integer, real or no value) and a commentary card are read here, with
astropy's own expressions and in one match; every other card (HIERARCH, CONTINUE,
record-valued, complex, unparsable, non-standard) is given to astropy's ``Card`` itself.

The expressions are private names of astropy (``Card._keywd_FSC_RE``, ``_value_NFSC_RE``,
``_number_NFSC_RE``, ``util._str_to_num``, ``card.FIX_FP_TABLE2``): tests/test_cards.py
checks that they exist and read as this module expects, for the astropy range pinned in
requirements.txt.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

from astropy.io import fits
from astropy.io.fits.card import FIX_FP_TABLE2
from astropy.io.fits.util import _str_to_num
from astropy.io.fits.verify import VerifyError, VerifyWarning

from handlers.documents import Card
from handlers.fits.format import CARD, END_KEYWORD
from handlers.fits.json_values import encode_value
from handlers.threads.thread_warnings import ignored

logger = logging.getLogger(__name__)

_END_CARD = END_KEYWORD.ljust(CARD)
_COMMENTARY = frozenset({"", "COMMENT", "HISTORY"})
#: Keywords that astropy reads in ways of their own.
_SPECIAL = frozenset({"END", "CONTINUE"})
#: astropy's expressions for a standard keyword, a card's value field and a number in it.
_KEYWORD, _VALUE, _NUMBER = fits.Card._keywd_FSC_RE, fits.Card._value_NFSC_RE, fits.Card._number_NFSC_RE
#: astropy's reading of a real number's digits: D exponents as E, blanks dropped.
_DIGITS = str.maketrans({**FIX_FP_TABLE2, ord(" "): None})


def header_cards(text: bytes) -> list[Card] | None:
    """Every card of a header's blocks (``text``, through its END card) as a document, in order.

    None for a header that astropy must read whole: one with bytes that are not ASCII
    (astropy replaces them, and warns), or that does not end with a standard END card.
    """
    try:
        header = text.decode("ascii")
    except UnicodeDecodeError:
        return None
    images = [header[start : start + CARD] for start in range(0, len(header), CARD)]
    if not images or images[-1] != _END_CARD:
        return None
    strip = bool(fits.conf.strip_header_whitespace)
    documents: list[Card] = []
    for image in _card_images(images[:-1]):
        document = _standard_card(image, strip)
        documents.append(document if document is not None else cards_to_json([fits.Card.fromstring(image)])[0])
    return documents


def _card_images(images: list[str]) -> Iterator[str]:
    """Each card's image, a long string's CONTINUE cards joined to it (as ``Header.fromstring`` does)."""
    card: list[str] = []
    for image in images:
        if card and image[:8] == "CONTINUE":
            card.append(image)
            continue
        if card:
            yield "".join(card)
        card = [image]
    if card:
        yield "".join(card)


def _standard_card(image: str, strip: bool) -> Card | None:
    """The card as astropy reads it, or None where astropy must read it (see the module's docstring).

    The steps are astropy's ``Card._parse_keyword``, ``_split``, ``_parse_value`` and
    ``_parse_comment``, for the cards that they read the ordinary way.
    """
    if len(image) != CARD:
        return None  # a long string continued
    keyword = image[:8].rstrip()
    if keyword in _COMMENTARY:
        return {"keyword": keyword, "value": image[8:].rstrip(), "comment": ""}
    if keyword in _SPECIAL or image.find("= ") != 8 or not _KEYWORD.match(keyword):
        return None
    rest = image[10:].lstrip()
    if rest[:1] == "'" and rest.find(": ") >= 2:
        return None  # perhaps a record-valued card
    match = _VALUE.match(rest.rstrip())
    if match is None:
        return None
    logical, string, number, complex_, comment = match.group("bool", "strg", "numr", "cplx", "comm")
    value: Any
    if logical is not None:
        value = logical == "T"
    elif string is not None:
        value = string.replace("''", "'")
        value = value.rstrip() if strip else value
    elif number is not None:
        value = encode_value(_number(number))
    elif complex_ is not None:
        return None
    else:
        value = None  # no value: astropy's Undefined
    return {"keyword": keyword, "value": value, "comment": comment.rstrip() if comment else ""}


def _number(text: str) -> int | float:
    """astropy's reading of a number (``Card._parse_value``): blanks dropped, D exponents as E."""
    if " " in text or "d" in text or "D" in text:
        parts = _NUMBER.match(text)
        text = (parts.group("sign") or "") + parts.group("digt").translate(_DIGITS)
    return _str_to_num(text)


def cards_to_json(cards: Iterable[fits.Card]) -> list[Card]:
    """Each astropy card as ``keyword``/``value``/``comment``; a card astropy cannot parse
    keeps its raw text and gets ``"unparsed": true`` instead of failing the file.

    The warning filters are set once for all the cards: setting them costs more than
    parsing a card does.
    """
    with ignored(raising=(VerifyWarning,)):
        return [_card_to_json(card) for card in cards]


def _card_to_json(card: fits.Card) -> Card:
    try:
        return {"keyword": card.keyword, "value": encode_value(card.value), "comment": card.comment}
    except (VerifyError, VerifyWarning, ValueError) as exc:
        logger.warning("unparsable card %r: %s", card.keyword, exc)
    return {"keyword": card.keyword, "value": _raw_value(card), "comment": None, "unparsed": True}


def _raw_value(card: fits.Card) -> str:
    """The card's text after its keyword, as written in the file."""
    # Only cards read from text can be unparsable, and they keep it in ``_image``: the
    # public ``image`` would first "fix" the card (rewriting the very text) or raise.
    image = card._image
    rest = image.split("=", 1)[1] if image[:9].upper() == "HIERARCH " else image[8:]
    return rest.removeprefix("= ").strip()


def first_values(cards: Iterable[Card]) -> dict[str, Any]:
    """The parsed value of each keyword; where a keyword recurs, its first card wins, as in astropy."""
    values: dict[str, Any] = {}
    for card in cards:
        if not card.get("unparsed"):
            values.setdefault(card["keyword"], card["value"])
    return values
