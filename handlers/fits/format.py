"""The FITS format's fixed sizes and kinds of HDU, defined once (FITS Standard 4.0, section 4).

Ours rather than astropy's (``astropy.io.fits.card.CARD_LENGTH``...): importing
astropy.io.fits costs a cold start that reads no FITS (a removal, a skipped object).
"""

from __future__ import annotations

#: Bytes of a header or data block.
BLOCK = 2880
#: Bytes of a header card.
CARD = 80
#: Columns of a card's keyword field.
KEYWORD_LENGTH = 8
#: The keyword field of the card that ends a header.
END_KEYWORD = "END".ljust(KEYWORD_LENGTH)

#: astropy's classes of HDU whose data is an image.  GroupsHDU subclasses PrimaryHDU,
#: but its "image" is a table of groups, so classes are matched by exact name.
IMAGE_TYPES = frozenset({"PrimaryHDU", "ImageHDU", "CompImageHDU"})
TABLE_TYPES = frozenset({"BinTableHDU", "TableHDU"})


def is_image(hdu_type: str | None) -> bool:
    """Whether an HDU of astropy's class ``hdu_type`` (a document's ``type``) holds an image."""
    return hdu_type in IMAGE_TYPES


def is_tile_compressed(hdu_type: str | None) -> bool:
    """Whether an HDU of astropy's class ``hdu_type`` is a tile-compressed image (its data a table's heap)."""
    return hdu_type == "CompImageHDU"


def is_random_groups(hdu_type: str | None) -> bool:
    """Whether an HDU of astropy's class ``hdu_type`` holds random groups (UVFITS visibilities, mostly)."""
    return hdu_type == "GroupsHDU"


def is_table(hdu_type: str | None) -> bool:
    """Whether an HDU of astropy's class ``hdu_type`` holds a table."""
    return hdu_type in TABLE_TYPES
