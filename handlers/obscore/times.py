"""Temporal coverage: start, end and exposure of the observation."""

from __future__ import annotations

from handlers.documents import TemporalFields
from handlers.obscore.readers import Lookup, date, number


def temporal(lookup: Lookup) -> TemporalFields:
    """t_min and t_max (MJD) and t_exptime (s); t_max from the exposure where no end is given."""
    t_exptime = lookup.find(*(number(key, 0) for key in ("EXPTIME", "EXPOSURE", "TEXPTIME", "ITIME")))
    t_min = lookup.find(
        number("EXPSTART"), number("MJD-OBS"), number("MJD-BEG"),
        date("DATE-OBS", "TIME-OBS"), date("DATE-BEG"),
    )
    t_max = lookup.find(number("EXPEND"), number("MJD-END"), date("DATE-END"))
    if t_max is None and t_min is not None and t_exptime is not None:
        t_max = t_min + t_exptime / 86400  # overflows for values near the largest float
    return {
        "t_min": lookup.finite("t_min", t_min),
        "t_max": lookup.finite("t_max", t_max),
        "t_exptime": lookup.finite("t_exptime", t_exptime),
    }
