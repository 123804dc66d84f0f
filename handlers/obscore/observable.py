"""What was measured: the observable's UCD (``o_ucd``) and the polarization states (``pol_*``)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from handlers.documents import ObservableFields
from handlers.fits.format import is_image, is_table
from handlers.obscore.axes import axis_types
from handlers.obscore.kinds import MEASURED
from handlers.obscore.readers import Keywords, Lookup
from handlers.obscore.units import parsable
from handlers.threads.thread_warnings import ignored

#: Units that count detected quanta, per time or pixel or not (STIS BUNIT = 'COUNTS', AIA 'DN',
#: 'electrons/s' of HST's drizzled images), compared lower-cased: their UCD is phot.count.
COUNTED = frozenset({"count", "counts", "ct", "cts", "dn", "adu", "electron", "electrons", "e-", "photon", "photons"})
#: astropy's physical types of the other units, and their UCDs (UCD1+ vocabulary); a unit per
#: solid angle or per beam (MJy/sr, Jy/beam) is read as the flux density it is per area.
PHYSICAL_UCDS = {
    "spectral flux density": "phot.flux.density",
    "spectral flux density wav": "phot.flux.density",
    "energy flux": "phot.flux",
}

#: Radio's capitals (AIPS and CASA write BUNIT = 'JY/BEAM'), read as astropy's Jy and beam.
RADIO_CAPITALS = {"JY": "Jy", "BEAM": "beam"}
_RADIO_WORD = re.compile(r"\b(JY|BEAM)\b")

#: Stokes and correlation codes of a STOKES axis (FITS WCS paper I, table 7), and the order in
#: which ObsCore lists states (1.1, 4.20: ``/I/Q/U/V/`` ...).
STOKES_CODES = {1: "I", 2: "Q", 3: "U", 4: "V", -1: "RR", -2: "LL", -3: "RL", -4: "LR",
                -5: "XX", -6: "YY", -7: "XY", -8: "YX"}
OBSCORE_ORDER = ("I", "Q", "U", "V", "RR", "LL", "RL", "LR", "XX", "YY", "XY", "YX")


def observable(lookup: Lookup) -> ObservableFields:
    """o_ucd from the data's unit (an image's or random groups' BUNIT, or the TUNIT of a table's measured column,
    as ``kinds.MEASURED`` names them); pol_states and pol_xel from the first STOKES axis.
    """
    states = lookup.find(_stokes_axis)
    return {
        "o_ucd": _observable_ucd(lookup),
        "pol_states": "/" + "/".join(states) + "/" if states else None,
        "pol_xel": len(states) if states else None,
    }


@functools.lru_cache(maxsize=256)
def unit_ucd(unit: str) -> str | None:
    """The UCD of an observable in ``unit``: ``COUNTED`` units, then ``PHYSICAL_UCDS``, magnitudes.

    Cached: astropy takes about a millisecond to parse a unit (ten to refuse one), and a
    warm function meets the same few units file after file.
    """
    if re.split(r"[\s/*(]", unit.strip().lower(), maxsplit=1)[0] in COUNTED:
        return "phot.count"
    if not parsable(unit):
        return None
    from astropy import units

    with ignored():  # UnitsWarning: several slashes, which FITS discourages but everyone writes
        parsed = units.Unit(_RADIO_WORD.sub(lambda word: RADIO_CAPITALS[word[0]], unit), parse_strict="silent")
    if isinstance(parsed, units.UnrecognizedUnit):
        return None
    if parsed == units.mag:
        return "phot.mag"
    try:
        kinds = [str((parsed * per_area).physical_type) for per_area in (units.one, units.sr, units.beam, units.pix)]
    except (units.UnitsError, TypeError, ValueError):  # a logarithmic unit (dex...) has no area
        return None
    return next((PHYSICAL_UCDS[kind] for text in kinds for kind in text.split("/") if kind in PHYSICAL_UCDS), None)


def _observable_ucd(lookup: Lookup) -> str | None:
    """The UCD of the first unit of data that has one (DESI's wavelengths, in Angstrom, come before its fluxes)."""
    return next((ucd for unit in _data_units(lookup) if (ucd := unit_ucd(unit))), None)


def _data_units(lookup: Lookup) -> Iterator[str]:
    """BUNIT of each image with data and of random groups (UVFITS's visibilities), and TUNIT of each
    table's measured columns, in file order.
    """
    for hdu, keywords in zip(lookup.hdus, lookup.headers, strict=True):
        if (is_image(hdu.get("type")) and hdu.get("shape") and all(hdu["shape"])) or "groups" in hdu:
            units = [keywords.get("BUNIT")]
        elif is_table(hdu.get("type")):
            units = [column["unit"] for column in hdu.get("columns", [])
                     if isinstance(column["name"], str) and MEASURED.fullmatch(column["name"].strip().upper())]
        else:
            continue
        yield from (unit for unit in units if isinstance(unit, str) and unit.strip())


def _stokes_axis(keywords: Keywords) -> list[str] | None:
    """The states along a STOKES axis, from its CRVAL, CDELT and CRPIX (WCS paper I defaults: 0, 1, 0)."""
    for n, ctype in enumerate(axis_types(keywords), start=1):
        if ctype != "STOKES":
            continue
        length, crval = keywords.get(f"NAXIS{n}"), keywords.get(f"CRVAL{n}", 0.0)
        cdelt, crpix = keywords.get(f"CDELT{n}", 1.0), keywords.get(f"CRPIX{n}", 0.0)
        if not isinstance(length, int) or not 0 < length <= len(STOKES_CODES):
            raise ValueError(f"NAXIS{n}={length!r} is no length of a STOKES axis")
        codes = [float(crval) + (pixel - float(crpix)) * float(cdelt) for pixel in range(1, length + 1)]
        states = {STOKES_CODES.get(round(code)) for code in codes if code == round(code)}
        if None in states or len(states) != length:
            raise ValueError(f"CTYPE{n}='STOKES' with CRVAL{n}={crval!r} CDELT{n}={cdelt!r} CRPIX{n}={crpix!r} "
                             f"gives codes {codes} that are not Stokes or correlation codes")
        return [state for state in OBSCORE_ORDER if state in states]
    return None
