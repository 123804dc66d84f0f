"""Light curves: a table's time column and its rate or flux, charted (``tables.draw_columns``)."""

from __future__ import annotations

from collections.abc import Sequence

TIME = "TIME"
#: A light curve's y column, preferred first: TESS/Kepler's corrected and simple fluxes, X-ray rates, counts.
LIGHT_CURVE_Y = ("PDCSAP_FLUX", "SAP_FLUX", "FLUX", "RATE", "COUNTS")


def light_curve_columns(names: Sequence[str]) -> tuple[str, str] | None:
    """(time column, y column) of a light curve, matched by name in any case; None if the table is none."""
    upper = {n.upper(): n for n in names}
    y = next((upper[n] for n in LIGHT_CURVE_Y if n in upper), None)
    return (upper[TIME], y) if TIME in upper and y is not None else None
