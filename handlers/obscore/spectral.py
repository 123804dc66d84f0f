"""Spectral coverage: em_min and em_max (vacuum wavelengths, m), em_res_power and em_xel.

The first source that gives a band wins, in this order:
1. an image's spectral WCS axis (the HDU document's ``spectral_axis``): its pixels' outer edges;
2. bounds a header states: WAVELMIN/WAVELMAX (ESO's science data products standard, nm),
   MINWAVE/MAXWAVE (HST STIS and COS, Å), WAVEMIN/WAVEMAX (SOLARNET, in WAVEUNIT), or energy
   bounds E_MIN/E_MAX, ENERG_LO/ENERG_HI (keV) and an ENERGY data subspace (DSTYPn/DSVALn/DSUNIn);
3. a table column of wavelengths, frequencies or energies with TUNITn: its TDMINn/TDMAXn (the
   data's range), else its TLMINn/TLMAXn (the legal range) where both bound a finite band;
4. the data of the spectra charted as previews (``preview.x``: a wavelength array in another HDU,
   as DESI writes them, a table's wavelength, frequency or energy column): the range of the x values
   whose flux is finite, in the chart's unit (``log10 wavelength`` as 10**x), over all the file's charts;
5. a central wavelength, WAVELNTH (in WAVEUNIT) or CENWAVE (HST, Å): em_min = em_max = it;
6. the filter (the record's ``filter``) through the table of photometric passbands.
A unit in square brackets at the start of a card's comment (FITS 4.0, section 4.3.2) overrides
the default unit; without either, a value is not taken and ``warnings`` says so.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from handlers.documents import HduDocument, SpectralFields
from handlers.obscore.filters import passband
from handlers.obscore.names import identity
from handlers.obscore.readers import Header, Lookup, number, text
from handlers.obscore.units import parsable
from handlers.threads.thread_warnings import ignored

#: Header bounds of a band: (lower keyword, upper keyword, the unit where the header gives none).
_WAVELENGTH_BOUNDS = (("WAVELMIN", "WAVELMAX", "nm"), ("MINWAVE", "MAXWAVE", "HST"), ("WAVEMIN", "WAVEMAX", "WAVEUNIT"))
_ENERGY_BOUNDS = (("E_MIN", "E_MAX", "keV"), ("ENERG_LO", "ENERG_HI", "keV"))
_CENTRAL_WAVELENGTHS = (("WAVELNTH", "WAVEUNIT"), ("CENWAVE", "HST"))
#: WAVELNTH's unit where WAVEUNIT is missing, as sunpy 7.0's map sources take it for each mission:
#: (keyword, the start of its value, unit).
_MISSION_WAVEUNITS = (
    ("INSTRUME", "AIA", "Angstrom"), ("INSTRUME", "HMI", "Angstrom"), ("INSTRUME", "EIT", "Angstrom"),
    ("INSTRUME", "MDI", "Angstrom"), ("INSTRUME", "EUI", "Angstrom"), ("INSTRUME", "SJI", "Angstrom"),
    ("DETECTOR", "EUVI", "Angstrom"), ("INSTRUME", "COSMO K-CORONAGRAPH", "nm"),
)
#: Table columns whose values are spectral coordinates, by the start of their TTYPEn.
_SPECTRAL_COLUMNS = ("WAVE", "LAMBDA", "FREQ", "ENERG", "E_MIN", "E_MAX")


@dataclass(frozen=True)
class _Context:
    """What the whole file says of the instrument, for units and the filter's system; where to note."""

    telescope: str | None
    instrument: str | None
    detector: str | None
    origin: str | None
    note: Callable[[str], None]


#: A rule that reads a band from one HDU: its document and its header.
_Rule = Callable[[HduDocument, Header, _Context], tuple[float, float] | None]


def spectral(lookup: Lookup) -> SpectralFields:
    """em_min/em_max from the first source that gives them (module docstring); em_xel from a WCS axis."""
    again = replace(lookup, notes=None)  # identity() reads and notes these names already: again, silently
    telescope, instrument, detector, origin = (again.find(text(key)) for key in
                                               ("TELESCOP", "INSTRUME", "DETECTOR", "ORIGIN"))
    context = _Context(telescope, instrument, detector, origin, lookup.note)
    axis = _wcs_band(lookup.hdus, lookup.note)
    band = axis[:2] if axis else (_header_band(lookup, context, (_stated_bounds, _column_bounds))
                                  or _charted_band(lookup, context)
                                  or _header_band(lookup, context, (_central_wavelength,))
                                  or _filter_band(again, context))
    low, high = band if band is not None else (None, None)
    return {
        "em_min": lookup.finite("em_min", low),
        "em_max": lookup.finite("em_max", high),
        "em_res_power": lookup.find(number("SPECRES", 0), number("SPEC_RES", 0)) or None,
        "em_xel": axis[2] if axis else None,
    }


def _header_band(lookup: Lookup, context: _Context, rules: tuple[_Rule, ...]) -> tuple[float, float] | None:
    """The band of the first rule that gives one, trying each rule header by header."""
    for rule in rules:
        for hdu, keywords in zip(lookup.hdus, lookup.headers, strict=True):
            band = rule(hdu, keywords, context)
            if band is not None:
                return band
    return None


def _wcs_band(hdus: Sequence[HduDocument], note: Callable[[str], None]) -> tuple[float, float, int] | None:
    """The first spectral WCS axis's wavelengths and pixels; an axis without them is noted."""
    for hdu in hdus:
        axis = hdu.get("spectral_axis")
        if not axis:
            continue
        if axis["wavelength_m"]:
            low, high = axis["wavelength_m"]
            return low, high, axis["pixels"]
        note(f"em_min/em_max not taken from HDU {hdu['index']}'s spectral axis CTYPE{axis['axis']} = "
             f"{axis['ctype']!r}: {axis['error']}")
    return None


def _stated_bounds(hdu: HduDocument, keywords: Header, context: _Context) -> tuple[float, float] | None:
    for low_key, high_key, default in (*_WAVELENGTH_BOUNDS, *_ENERGY_BOUNDS):
        if low_key in keywords and high_key in keywords:
            unit = _unit(low_key, default, keywords, context)
            given = f"{low_key} = {keywords[low_key]!r}, {high_key} = {keywords[high_key]!r}"
            band = _band(given, keywords[low_key], keywords[high_key], unit, context)
            if band is not None:
                return band
    return _data_subspace(keywords, context)


def _data_subspace(keywords: Header, context: _Context) -> tuple[float, float] | None:
    """An ENERGY data subspace (HEASARC's DSTYPn, DSVALn 'lo:hi', DSUNIn keywords), as Fermi-LAT writes it."""
    for n in range(1, 100):
        kind = keywords.get(f"DSTYP{n}")
        if kind is None:
            return None
        if not (isinstance(kind, str) and kind.strip().upper() == "ENERGY"):
            continue
        value, unit = keywords.get(f"DSVAL{n}"), keywords.get(f"DSUNI{n}")
        bounds = value.split(":") if isinstance(value, str) else []
        if len(bounds) != 2 or not isinstance(unit, str):
            context.note(f"DSVAL{n} = {value!r}, DSUNI{n} = {unit!r} is no energy range 'lo:hi' with a unit: "
                         "em_min/em_max not taken from it")
            return None
        return _band(f"DSVAL{n} = {value!r}", bounds[0], bounds[1], unit.strip(), context)
    return None


def _column_bounds(hdu: HduDocument, keywords: Header, context: _Context) -> tuple[float, float] | None:
    for n, column in enumerate(hdu.get("columns") or [], 1):
        name, unit = (column["name"] or "").strip().upper(), column["unit"]
        if not name.startswith(_SPECTRAL_COLUMNS) or not isinstance(unit, str):
            continue
        for low_key, high_key in ((f"TDMIN{n}", f"TDMAX{n}"), (f"TLMIN{n}", f"TLMAX{n}")):
            if low_key in keywords and high_key in keywords:
                given = f"{low_key} = {keywords[low_key]!r}, {high_key} = {keywords[high_key]!r}"
                band = _band(given, keywords[low_key], keywords[high_key], unit, context, quiet=low_key[:2] == "TL")
                if band is not None:
                    return band
    return None


#: The quantities of a chart's x axis that are vacuum wavelengths, frequencies or energies (fits.previews).
_CHARTED_QUANTITIES = frozenset({"wavelength", "frequency", "energy", "wavenumber", "log10 wavelength"})


def _charted_band(lookup: Lookup, context: _Context) -> tuple[float, float] | None:
    """The union of the x ranges of the file's spectrum charts (DESI's three cameras: one band)."""
    bands = [band for hdu in lookup.hdus if (band := _chart_band(hdu, context)) is not None]
    return (min(low for low, _ in bands), max(high for _, high in bands)) if bands else None


def _chart_band(hdu: HduDocument, context: _Context) -> tuple[float, float] | None:
    """The x range of a spectrum's chart, where its x is a spectral quantity with a unit."""
    preview = hdu.get("preview") or {}
    x = preview.get("x")
    if preview.get("kind") != "spectrum" or not x or x.get("quantity") not in _CHARTED_QUANTITIES:
        return None
    low, high = x.get("min"), x.get("max")
    if not isinstance(low, (int, float)) or not isinstance(high, (int, float)):
        return None
    unit = x.get("unit")
    if x["quantity"] == "log10 wavelength":  # SDSS's loglam: log10 of Å, which its data model states
        low, high = 10.0 ** min(low, 300.0), 10.0 ** min(high, 300.0)
        unit = "Angstrom" if unit is None or "angstrom" in unit.lower() else unit
    given = f"HDU {hdu['index']}'s charted {x['quantity']} ({x.get('source')}) from {low!r} to {high!r}"
    return _band(given, low, high, unit, context)


def _central_wavelength(hdu: HduDocument, keywords: Header, context: _Context) -> tuple[float, float] | None:
    for key, default in _CENTRAL_WAVELENGTHS:
        if key in keywords:
            unit = _unit(key, default, keywords, context)
            band = _band(f"{key} = {keywords[key]!r}", keywords[key], keywords[key], unit, context)
            if band is not None:
                return band
    return None


def _filter_band(lookup: Lookup, context: _Context) -> tuple[float, float] | None:
    name = identity(lookup)["filter"]
    band = passband(name, context.telescope, context.instrument, context.detector, context.origin) if name else None
    return (band.min_m, band.max_m) if band is not None else None


def _unit(keyword: str, default: str, keywords: Header, context: _Context) -> str | None:
    """The unit of ``keyword``'s value: WAVEUNIT, a bracketed unit in its comment, the default's.

    ``default``: a unit; ``"WAVEUNIT"`` (SOLARNET: a unit, or metres' power of ten; else the
    mission's unit); or ``"HST"`` (Å where TELESCOP is HST).
    """
    waveunit = keywords.get("WAVEUNIT") if default == "WAVEUNIT" else None  # a placeholder is none
    if isinstance(waveunit, int) and not isinstance(waveunit, bool):
        return f"10**{waveunit} m"
    if waveunit is not None:
        return str(waveunit).strip()
    bracketed = keywords.comment_unit(keyword)
    if bracketed:
        return bracketed.strip()
    if default == "WAVEUNIT":
        names = {"INSTRUME": context.instrument, "DETECTOR": context.detector}
        return next((unit for key, start, unit in _MISSION_WAVEUNITS
                     if (names[key] or "").upper().startswith(start)), None)
    if default == "HST":
        return "Angstrom" if (context.telescope or "").upper() == "HST" else None
    return default


def _band(given: str, low_value: Any, high_value: Any, unit: str | None, context: _Context,
          quiet: bool = False) -> tuple[float, float] | None:
    """(shortest, longest) vacuum wavelength (m) of two bounds in ``unit``; ``given`` names their cards.

    ``quiet``: bounds that give no finite wavelength (a legal range from 0 eV) are no band,
    but no error to report.
    """
    if unit is None:
        context.note(f"{given} has no unit (no unit card, no [unit] in its comment, no mission's documented "
                     "unit): em_min/em_max not taken from it")
        return None
    try:
        wavelengths = sorted(_metres(value, unit) for value in (low_value, high_value))
    except (ValueError, TypeError) as exc:
        context.note(f"{given} in {unit!r}: {exc}: em_min/em_max not taken from it")
        return None
    if not all(0 < x < math.inf for x in wavelengths):
        if not quiet:
            context.note(f"{given} in {unit!r} gives no finite wavelengths: em_min/em_max not taken from it")
        return None
    return wavelengths[0], wavelengths[1]


def _metres(value: Any, unit: str) -> float:
    """A wavelength, frequency, wavenumber or energy as a vacuum wavelength in metres (λ = c/ν = hc/E)."""
    import astropy.units as u

    parsed = _parse_unit(unit)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError(f"{value!r} is not a number")
    try:
        quantity = float(value) * parsed
    except ValueError:
        raise ValueError(f"{value!r} is not a number") from None
    if not quantity.unit.is_equivalent(u.m, equivalencies=u.spectral()):
        raise ValueError(f"{unit!r} is no unit of wavelength, frequency or energy")
    with ignored():  # a zero energy or frequency divides by zero: the caller refuses the infinity
        return float(quantity.to_value(u.m, equivalencies=u.spectral()))


def _parse_unit(unit: str) -> Any:
    """``unit`` as the FITS standard spells units, else as astropy does ('angstrom', 'micron')."""
    import astropy.units as u

    if not parsable(unit):
        raise ValueError(f"{unit!r} is not a unit")
    try:
        return u.Unit(unit, format="fits")
    except ValueError:
        try:
            return u.Unit(unit)
        except ValueError:
            raise ValueError(f"{unit!r} is not a unit") from None
