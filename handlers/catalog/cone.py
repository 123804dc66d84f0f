"""A cone search: the ``obscore`` rows within a radius of a position, reading only the partitions it touches.

cdshealpix names every order-4 pixel the cone overlaps (``sky.cone_pixels``); the query scans
those partitions' files alone and keeps the rows whose great-circle distance, computed exactly,
is within the radius.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pyarrow as pa

from handlers.catalog.layout import PARTITION_ORDER
from handlers.catalog.query import Scan, query, scan
from handlers.catalog.sky import angular_distance_sql, cone_pixels
from handlers.catalog.store import CatalogStore

DISTANCE = "distance_deg"


class ConeError(ValueError):
    """A position or radius outside the sky: RA must be finite, Dec within [-90, 90], the radius in (0, 180]."""


@dataclass
class ConeResult:
    rows: pa.Table
    #: The files read, and their bytes: the partitions the cone touches.
    scan: Scan


def cone_sql(ra: float, dec: float, radius_deg: float, where: str | None = None) -> str:
    """The query, in SQL that DuckDB and Athena both accept; ``where`` is ANDed to the distance's condition."""
    distance = angular_distance_sql(ra, dec)
    extra = f" AND ({where})" if where else ""
    return (f"SELECT *, {distance} AS {DISTANCE} FROM obscore "
            f"WHERE s_ra IS NOT NULL AND s_dec IS NOT NULL AND {distance} <= {radius_deg!r}{extra} "
            f"ORDER BY {DISTANCE}, metadata_key")


def cone(store: CatalogStore, ra: float, dec: float, radius_deg: float, where: str | None = None) -> ConeResult:
    """Raises ``ConeError`` for a cone outside the sky, ``duckdb.Error`` for a ``where`` DuckDB refuses."""
    if not (math.isfinite(ra) and math.isfinite(dec) and -90 <= dec <= 90):
        raise ConeError(f"no such position: RA {ra!r}, Dec {dec!r} (degrees; Dec within [-90, 90])")
    if not (math.isfinite(radius_deg) and 0 < radius_deg <= 180):
        raise ConeError(f"the radius must be in (0, 180] degrees, got {radius_deg!r}")
    plan = scan(store, obscore_partitions=cone_pixels(ra % 360, dec, radius_deg, PARTITION_ORDER))
    return ConeResult(query(store, cone_sql(ra, dec, radius_deg, where), plan), plan)
