"""The kinds of a WCS's axes, from their CTYPEi cards (FITS WCS papers II and III)."""

from __future__ import annotations

from handlers.obscore.readers import Keywords

#: The first four characters of a spectral CTYPE (WCS paper III, table 1).
SPECTRAL_TYPES = frozenset({"FREQ", "ENER", "WAVN", "VRAD", "WAVE", "VOPT", "ZOPT", "AWAV", "VELO", "BETA"})


def axis_types(keywords: Keywords) -> list[str]:
    """CTYPE1..CTYPEn (NAXIS, or WCSAXES where larger) in FITS order, upper-cased, '' where absent."""
    count = max(_count(keywords.get("NAXIS")), _count(keywords.get("WCSAXES")))
    types = [keywords.get(f"CTYPE{n}") for n in range(1, count + 1)]
    return [value.strip().upper() if isinstance(value, str) else "" for value in types]


def is_spectral(ctype: str) -> bool:
    """Whether an axis of this type is spectral (a frequency, wavelength, velocity, energy...)."""
    return ctype[:4] in SPECTRAL_TYPES


def _count(value: object) -> int:
    """An axis count card's value, or 0; a count beyond FITS's 999 axes is no count."""
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 999 else 0
