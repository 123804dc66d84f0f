"""Pure: astropy HDUs -> strict-JSON documents of their headers.

Only header blocks are touched: the file is read lazily from S3, so reading a data
unit here would fetch bytes nobody asked for.
"""

from __future__ import annotations

import logging
from typing import Any

from astropy.io import fits

from .cards import cards_to_json, header_cards
from .wcsinfo import celestial_wcs

logger = logging.getLogger(__name__)

# GroupsHDU subclasses PrimaryHDU, but its "image" is a table of groups.
_IMAGE_TYPES = (fits.PrimaryHDU, fits.ImageHDU, fits.CompImageHDU)
_TABLE_TYPES = (fits.BinTableHDU, fits.TableHDU)
_COLUMN_KEYWORDS = (("name", "TTYPE"), ("format", "TFORM"), ("unit", "TUNIT"), ("dim", "TDIM"))


def describe_hdu(index: int, hdu: Any, written: bytes | None = None) -> dict:
    """The header of any astropy HDU as a document; its data unit is never read.

    ``written``: the HDU's header blocks as the file holds them, where the caller has them.
    """
    header = hdu.header  # of a CompImageHDU: the decompressed image's header
    if isinstance(hdu, (fits.CompImageHDU, fits.GroupsHDU)):
        # A tile-compressed HDU's blocks are its table's header, the image's is astropy's;
        # astropy rewrites a random-groups header as it opens it.
        written = None
    cards = header_cards(written) if written is not None else None
    if cards is None:
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
            wcs = celestial_wcs(header, shape, written)
    elif isinstance(hdu, _TABLE_TYPES):
        doc["rows"] = values["NAXIS2"]
        # From the header rather than hdu.columns: raw TFORMs, and no validation to fail on.
        doc["columns"] = [
            {name: values.get(f"{keyword}{n}") for name, keyword in _COLUMN_KEYWORDS}
            for n in range(1, int(values["TFIELDS"]) + 1)
        ]
    doc.update(wcs=wcs, thumbnail=None, preview=None)
    return doc
