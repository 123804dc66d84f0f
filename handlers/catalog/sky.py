"""Pure: HEALPix indices of positions and of cones (cdshealpix, the CDS's nested-scheme library)."""

from __future__ import annotations

import math

import astropy.units as u
import numpy as np
from astropy.coordinates import Latitude, Longitude
from cdshealpix import nested

#: The deepest order cdshealpix (and HATS's ``_healpix_29``) index.
MAX_ORDER = 29


def valid_position(ra: float | None, dec: float | None) -> bool:
    return ra is not None and dec is not None and math.isfinite(ra) and math.isfinite(dec) and -90 <= dec <= 90


def healpix_index(ra: float, dec: float, order: int) -> int:
    """The nested pixel of order ``order`` holding (ra, dec), degrees ICRS; RA is taken modulo 360."""
    pixels = nested.lonlat_to_healpix(Longitude([ra], u.deg), Latitude([dec], u.deg), order)
    return int(pixels[0])


def partition_pixel(healpix_29: int, order: int) -> int:
    """The order-``order`` pixel holding an order-29 pixel: nested pixels nest by two bits per order."""
    return healpix_29 >> (2 * (MAX_ORDER - order))


def cone_pixels(ra: float, dec: float, radius_deg: float, order: int) -> list[int]:
    """Every pixel of order ``order`` that a cone overlaps, or may (cdshealpix errs on the side of more)."""
    if radius_deg >= 90:  # more than a hemisphere: every pixel, as cdshealpix's own answer would be
        return list(range(12 * 4**order))
    pixels, _, _ = nested.cone_search(Longitude(ra, u.deg), Latitude(dec, u.deg), radius_deg * u.deg, order,
                                      flat=True)
    return sorted({int(pixel) for pixel in np.asarray(pixels)})


def angular_distance_sql(ra: float, dec: float) -> str:
    """The great-circle distance in degrees from (ra, dec) to (s_ra, s_dec), as SQL both DuckDB and Athena
    evaluate (the haversine formula, exact at small angles as the cosine formula is not)."""
    return (f"degrees(2 * asin(sqrt(power(sin(radians(s_dec - ({dec!r})) / 2), 2) + cos(radians({dec!r})) "
            f"* cos(radians(s_dec)) * power(sin(radians(s_ra - ({ra!r})) / 2), 2))))")
