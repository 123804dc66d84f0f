"""Pure: astropy HDUs -> strict-JSON documents of their headers.

Only header blocks are touched: the file is read lazily from S3, so reading a data
unit here would fetch bytes nobody asked for.  Whatever the header holds, the document
is strict JSON when it leaves ``describe_hdu``: the cards are encoded as they are read,
and everything else the HDU contributes (``ver``, the data fields, the WCS) is encoded
the same way here (``fits.json_values``), so that no later step meets a NaN or a complex number.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

from astropy.io import fits

from handlers.documents import Column, DataFields, HduDocument, RandomGroups
from handlers.errors import LimitWarning
from handlers.fits.cards import cards_to_json, first_values, header_cards
from handlers.fits.format import is_image, is_random_groups, is_table, is_tile_compressed
from handlers.fits.json_values import encode_value, strict_json
from handlers.fits.spectral_wcs import spectral_axis
from handlers.fits.wcs import celestial_wcs

logger = logging.getLogger(__name__)


def describe_hdu(index: int, hdu: Any, written: bytes | None = None) -> HduDocument:
    """The header of any astropy HDU as a document; its data unit is never read.

    Parameters:
        index: the HDU's place in the file (0: the primary HDU).
        hdu: an astropy HDU, opened lazily.
        written: the HDU's header blocks as the file holds them, where the caller has them
            (read there without astropy's Card; see ``fits.cards``).
    """
    header = hdu.header  # of a CompImageHDU: the decompressed image's header
    if isinstance(hdu, (fits.CompImageHDU, fits.GroupsHDU)):
        # A tile-compressed HDU's blocks are its table's header, the image's is astropy's;
        # astropy rewrites a random-groups header as it opens it.
        written = None
    cards = header_cards(written) if written is not None else None
    if cards is None:
        cards = cards_to_json(header.cards)
    values = first_values(cards)
    kind = type(hdu).__name__
    data: DataFields = {}
    wcs = spectral = None
    if is_image(kind):
        shape = [int(values[f"NAXIS{n}"]) for n in range(int(values["NAXIS"]), 0, -1)]
        data["shape"] = shape
        data["bitpix"] = values["BITPIX"]
        if "BZERO" in values:
            data["bzero"] = values["BZERO"]
        if "BSCALE" in values:
            data["bscale"] = values["BSCALE"]
        if is_tile_compressed(kind):
            tile = [int(n) for n in reversed(hdu.tile_shape)]  # ZTILE1 first
            data["compression"] = {"type": hdu.compression_type, "tile": tile}
        if len(shape) >= 2:
            wcs = celestial_wcs(header, shape, written)
        spectral = spectral_axis(header, values, shape, written)
    elif is_random_groups(kind):
        data["bitpix"] = values["BITPIX"]
        data["groups"] = _random_groups(values, len(cards))
    elif is_table(kind):
        data["rows"] = values["NAXIS2"]
        # From the header rather than hdu.columns: raw TFORMs, and no validation to fail on.
        data["columns"] = [_column(values, n) for n in range(1, _column_count(index, values, len(cards)) + 1)]
    # astropy's ver is EXTVER's value, of whatever type the card has (1 without one).
    strict: DataFields = strict_json(data)
    return {"index": index, "name": hdu.name, "ver": encode_value(hdu.ver), "type": kind, "cards": cards, **strict,
            "wcs": strict_json(wcs), "spectral_axis": strict_json(spectral), "thumbnail": None, "preview": None}


def _column_count(index: int, values: dict[str, Any], cards: int) -> int:
    """TFIELDS, bounded by the header's real size: each column needs its TFORMn card, so a header
    claims more columns than it holds cards only by being wrong, and describing every claimed
    column would cost memory in proportion to a number the file merely states.
    """
    claimed = int(values["TFIELDS"])
    if claimed <= cards:
        return claimed
    described = max((n for n in range(1, cards + 1) if f"TFORM{n}" in values), default=0)
    warnings.warn(LimitWarning(f"HDU {index}: TFIELDS = {claimed:,} claims more columns than its {cards:,} cards can "
                               f"describe; the {described:,} with a TFORMn card are described"), stacklevel=2)
    return described


def _random_groups(values: dict[str, Any], cards: int) -> RandomGroups:
    """GCOUNT groups, each PCOUNT parameters (PTYPEn) and an array of NAXIS2..NAXISn (FITS Standard 6).

    astropy has checked these cards as it opened the HDU (NAXIS1 = 0, GROUPS = T).  As for
    TFIELDS, a PCOUNT beyond the header's cards names no more parameters than the cards hold.
    """
    axes = int(values["NAXIS"])
    return {
        "count": int(values["GCOUNT"]),
        "parameters": [values.get(f"PTYPE{n}") for n in range(1, min(int(values["PCOUNT"]), cards) + 1)],
        "shape": [int(values[f"NAXIS{n}"]) for n in range(axes, 1, -1)],
    }


def _column(values: dict[str, Any], n: int) -> Column:
    return {"name": values.get(f"TTYPE{n}"), "format": values.get(f"TFORM{n}"),
            "unit": values.get(f"TUNIT{n}"), "dim": values.get(f"TDIM{n}")}
