"""Photometric passbands by filter name: the committed table ``filters.csv`` (its header cites its sources).

A filter name means a band only within a photometric system (ACS's F606W is not WFPC2's), so the
system is chosen from the header's telescope, instrument and detector; a bare Johnson-Cousins,
SDSS or 2MASS band name (``V``, ``r``, ``Ks``), written in its system's own case, means that
system's band wherever the header names no system of the table.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources

_ANGSTROM = 1e-10

#: Systems that a band name alone stands for, in their own spelling (case matters: u is not U).
_BARE_NAMES = {
    **dict.fromkeys("UBVRI", "Johnson-Cousins"),
    **dict.fromkeys("ugriz", "SDSS"),
    **dict.fromkeys(("J", "H", "Ks"), "2MASS"),
}


@dataclass(frozen=True)
class Passband:
    system: str
    name: str
    #: The shortest and longest wavelengths (m) at which the filter transmits 1% of its peak.
    min_m: float
    max_m: float
    source: str


@cache
def passbands() -> dict[tuple[str, str], Passband]:
    """The table, by (system, filter name upper-cased); read once, on first use."""
    text = resources.files(__package__).joinpath("filters.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(io.StringIO("".join(line for line in text.splitlines(True) if not line.startswith("#"))))
    return {
        (row["system"], row["filter"].upper()): Passband(
            row["system"], row["filter"], float(row["wavelength_min_angstrom"]) * _ANGSTROM,
            float(row["wavelength_max_angstrom"]) * _ANGSTROM, row["source"],
        )
        for row in rows
    }


#: Other names of a system's bands: 2MASS's atlas images write FILTER = 'k' for Ks.
_ALIASES = {("2MASS", "K"): "KS"}


def passband(name: str, telescope: str | None, instrument: str | None, detector: str | None,
             origin: str | None = None) -> Passband | None:
    """The band of filter ``name`` in the system the header names (TELESCOP, INSTRUME, DETECTOR,
    ORIGIN), else the bare name's system."""
    system = _system(*(value.strip().upper() if value else "" for value in (telescope, instrument, detector, origin)))
    if system is not None:
        band = (name.split(".")[0] if system == "PS1" else name).strip().upper()  # Pan-STARRS writes 'r.00000'
        return passbands().get((system, _ALIASES.get((system, band), band)))
    bare = name.strip().rstrip("'")  # SDSS-like filters are often written r'
    return passbands().get((_BARE_NAMES[bare], bare.upper())) if bare in _BARE_NAMES else None


def _system(telescope: str, instrument: str, detector: str, origin: str) -> str | None:
    """The table's system for these (upper-cased) TELESCOP, INSTRUME, DETECTOR and ORIGIN values."""
    if instrument == "ACS" and detector in ("WFC", "HRC"):
        return f"HST/ACS/{detector}"
    if instrument in ("WFC3", "WFPC2"):
        return f"HST/{instrument}"
    if instrument in ("NIRCAM", "MIRI") and telescope == "JWST":
        return "JWST/NIRCam" if instrument == "NIRCAM" else "JWST/MIRI"
    for mark, system in (("SDSS", "SDSS"), ("2MASS", "2MASS"), ("PS1", "PS1"), ("PAN-STARRS", "PS1"),
                         ("GALEX", "GALEX")):
        if mark in telescope or mark in origin:
            return system
    return None
