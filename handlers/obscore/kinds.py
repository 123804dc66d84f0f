"""``dataproduct_type``: what kind of data the file holds, in the IVOA vocabulary."""

from __future__ import annotations

import math
from collections.abc import Sequence

from handlers.documents import HduDocument
from handlers.fits.format import is_image, is_table


def dataproduct_type(hdus: Sequence[HduDocument]) -> str | None:
    """The first image with data decides; a file whose data are all tables holds measurements."""
    images = [
        hdu["shape"]
        for hdu in hdus
        if is_image(hdu.get("type")) and hdu.get("shape") and math.prod(hdu["shape"])
    ]
    for shape in images:
        axes = sum(n > 1 for n in shape)  # a degenerate axis (NAXISn = 1) is no dimension
        if axes >= 2:
            return "cube" if axes >= 3 else "image"
    if not images and any(is_table(hdu.get("type")) for hdu in hdus):
        return "measurements"
    return None
