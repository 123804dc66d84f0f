"""Pure: astropy HDUs -> strict-JSON documents of their headers.

Only header blocks are touched: the file is read lazily from S3, so reading a data
unit here would fetch bytes nobody asked for.
"""

from __future__ import annotations

import logging
import math
import numbers
import warnings
from collections.abc import Iterable
from typing import Any

from astropy.io import fits
from astropy.io.fits.card import Undefined
from astropy.io.fits.verify import VerifyError, VerifyWarning

from .wcsinfo import celestial_wcs

logger = logging.getLogger(__name__)

# GroupsHDU subclasses PrimaryHDU, but its "image" is a table of groups.
_IMAGE_TYPES = (fits.PrimaryHDU, fits.ImageHDU, fits.CompImageHDU)
_TABLE_TYPES = (fits.BinTableHDU, fits.TableHDU)
_COLUMN_KEYWORDS = (("name", "TTYPE"), ("format", "TFORM"), ("unit", "TUNIT"), ("dim", "TDIM"))


def cards_to_json(cards: Iterable[fits.Card]) -> list[dict]:
    """Each card as ``keyword``/``value``/``comment``; a card astropy cannot parse
    keeps its raw text and gets ``"unparsed": true`` instead of failing the file.

    The warning filters are set once for all the cards: setting them costs more than
    parsing a card does.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", VerifyWarning)
        return [_card_to_json(card) for card in cards]


def _card_to_json(card: fits.Card) -> dict:
    try:
        return {"keyword": card.keyword, "value": _encode(card.value), "comment": card.comment}
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


def _encode(value: Any) -> Any:
    """A header value as strict JSON, keeping its type and precision."""
    kind = type(value)
    if kind is str or kind is bool or kind is int:  # most values: exact types first, ABC checks cost more
        return value
    if kind is float:
        return _encode_float(value)
    if isinstance(value, Undefined):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return _encode_float(float(value))
    if isinstance(value, numbers.Complex):
        return {"real": _encode_float(value.real), "imag": _encode_float(value.imag)}
    return str(value)


def _encode_float(value: float) -> float | dict:
    """JSON has no NaN or infinities: spell them out."""
    if math.isfinite(value):
        return value
    return {"float": "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")}


def describe_hdu(index: int, hdu: Any, written: bytes | None = None) -> dict:
    """The header of any astropy HDU as a document; its data unit is never read.

    ``written``: the HDU's header blocks as the file holds them, where the caller has them.
    """
    header = hdu.header  # of a CompImageHDU: the decompressed image's header
    cards = cards_to_json(header.cards)
    values: dict[str, Any] = {}
    for card in cards:
        if not card.get("unparsed"):
            values.setdefault(card["keyword"], card["value"])
    doc: dict[str, Any] = {
        "index": index,
        "name": hdu.name,
        "ver": hdu.ver,
        "type": type(hdu).__name__,
        "cards": cards,
    }
    wcs = None
    if isinstance(hdu, _IMAGE_TYPES) and not isinstance(hdu, fits.GroupsHDU):
        shape = [int(values[f"NAXIS{n}"]) for n in range(int(values["NAXIS"]), 0, -1)]
        doc["shape"] = shape
        doc["bitpix"] = values["BITPIX"]
        doc.update({key.lower(): values[key] for key in ("BZERO", "BSCALE") if key in values})
        if isinstance(hdu, fits.CompImageHDU):
            tile = [int(n) for n in reversed(hdu.tile_shape)]  # ZTILE1 first
            doc["compression"] = {"type": hdu.compression_type, "tile": tile}
        if len(shape) >= 2:
            # A tile-compressed HDU's blocks are its table's header: the image's is astropy's.
            wcs = celestial_wcs(header, shape, None if isinstance(hdu, fits.CompImageHDU) else written)
    elif isinstance(hdu, _TABLE_TYPES):
        doc["rows"] = values["NAXIS2"]
        # From the header rather than hdu.columns: raw TFORMs, and no validation to fail on.
        doc["columns"] = [
            {name: values.get(f"{keyword}{n}") for name, keyword in _COLUMN_KEYWORDS}
            for n in range(1, int(values["TFIELDS"]) + 1)
        ]
    doc.update(wcs=wcs, thumbnail=None, preview=None)
    return doc
