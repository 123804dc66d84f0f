"""``dataproduct_type``: what kind of data the file holds, in the IVOA vocabulary (ObsCore 1.1, 4.1).

Decided by a table of rules (``RULES``), in order: the first rule that one of the file's HDUs
meets names the file's kind.  The order is the priority: an event list or a light curve
beside an image (a Chandra event file, a TESS light curve with its aperture) is what the
file is for; the image of a drizzled HST file wins over its table of headers; DESI's rows of
spectra over the cube of their resolution matrices.  No rule gives ``sed``: a header does not
tell an SED from any other table.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from handlers.documents import HduDocument
from handlers.fits.format import is_image, is_random_groups, is_table
from handlers.obscore.axes import axis_types, is_spectral
from handlers.obscore.readers import Keywords, Lookup

#: Columns of a light curve's times and of its measured values (GOES: TIME, FLUX; GBM's CTIME and
#: CSPEC: TIME, COUNTS; LYRA: TIME, CHANNEL1..4; an X-ray light curve: TIME, RATE; TESS, Kepler:
#: TIME, SAP_FLUX, PDCSAP_FLUX; EVE's lines: TAI, LINE_IRRADIANCE).
TIME_COLUMNS = frozenset({"TIME", "TAI", "MJD", "BJD", "HJD", "JD"})
MEASURED = re.compile(r"([A-Z0-9]+_)?(FLUX|RATE|COUNTS|IRRADIANCE)\d*|CHANNEL\d+")
#: An event list's columns beside TIME: a position on the detector, or each photon's energy.
EVENT_COLUMNS = frozenset({"PI", "PHA", "ENERGY"})
#: A spectrum's spectral coordinate in a table (SDSS: LOGLAM; HST COS and STIS x1d: WAVELENGTH).
SPECTRAL_COLUMNS = frozenset({"WAVE", "WAVELENGTH", "LAMBDA", "LOGLAM", "FREQ", "FREQUENCY", "WAVENUMBER"})
SPECTRUM_VALUES = frozenset({"FLUX", "FLUX_DENSITY", "INTENSITY", "COUNTS", "RATE", "SPECTRUM"})
#: The extension holding the wavelength of each pixel of rows of spectra (DESI: B_WAVELENGTH beside B_FLUX).
WAVELENGTH_IMAGE = re.compile(r"(.+_)?(WAVE|WAVELENGTH|LOGLAM)")


@dataclass(frozen=True)
class HduFacts:
    """What the rules ask of one HDU, read once from its document and keywords."""

    type: str
    extname: str
    keywords: Keywords
    #: An image's axis lengths in FITS order (NAXIS1 first); empty for other HDUs.
    axes: tuple[int, ...]
    ctypes: tuple[str, ...]
    #: A table's column names or a random-groups HDU's parameter names, upper-cased.
    names: frozenset[str]

    @classmethod
    def of(cls, hdu: HduDocument, keywords: Keywords) -> HduFacts:
        shape = hdu.get("shape") or []
        axes = tuple(reversed(shape)) if is_image(hdu.get("type")) and shape and all(shape) else ()
        if is_table(hdu.get("type")):
            names = [column["name"] for column in hdu.get("columns", [])]
        else:
            names = hdu["groups"]["parameters"] if "groups" in hdu else []
        return cls(
            type=hdu.get("type", ""),
            extname=_upper(keywords.get("EXTNAME")),
            keywords=keywords,
            axes=axes,
            ctypes=tuple(axis_types(keywords)),
            names=frozenset(name.strip().upper() for name in names if isinstance(name, str)),
        )

    @property
    def dimensions(self) -> int:
        """The image's axes longer than one pixel (a degenerate NAXISn = 1 is no dimension)."""
        return sum(n > 1 for n in self.axes)

    def has_spectral_axis(self) -> bool:
        """A spectral CTYPE on an axis longer than one pixel (FREQ, WAVE, VRAD... of WCS paper III)."""
        return any(n > 1 and is_spectral(ctype) for n, ctype in zip(self.axes, self.ctypes, strict=False))


@dataclass(frozen=True)
class Rule:
    kind: str
    #: What the rule looks for, as the README's table says it.
    says: str
    matches: Callable[[HduFacts, Sequence[HduFacts]], bool]


def _visibilities(hdu: HduFacts, file: Sequence[HduFacts]) -> bool:
    """UVFITS (random groups with UU, VV parameters) or FITS-IDI's UV_DATA table (UU, VV columns)."""
    if not (is_random_groups(hdu.type) or is_table(hdu.type)):
        return False
    return any(name.startswith("UU") for name in hdu.names) and any(name.startswith("VV") for name in hdu.names)


def _events(hdu: HduFacts, file: Sequence[HduFacts]) -> bool:
    """An EVENTS extension (EXTNAME, or OGIP's HDUCLAS1), or a table of TIME with X and Y, PI, PHA
    or ENERGY (Chandra, XMM, Fermi).
    """
    if not is_table(hdu.type):
        return False
    located = {"X", "Y"} <= hdu.names or bool(hdu.names & EVENT_COLUMNS)
    return "EVENTS" in (hdu.extname, _upper(hdu.keywords.get("HDUCLAS1"))) or ("TIME" in hdu.names and located)


def _light_curve(hdu: HduFacts, file: Sequence[HduFacts]) -> bool:
    """A table of times and measured values (``TIME_COLUMNS`` and ``MEASURED``)."""
    return (
        is_table(hdu.type)
        and bool(hdu.names & TIME_COLUMNS)
        and any(MEASURED.fullmatch(name) for name in hdu.names)
    )


def _cube(hdu: HduFacts, file: Sequence[HduFacts]) -> bool:
    """An image of three or more axes longer than one pixel (a spectral cube among them)."""
    return hdu.dimensions >= 3


def _spectrum(hdu: HduFacts, file: Sequence[HduFacts]) -> bool:
    """One spectrum or rows of them, as an image or a table."""
    if is_table(hdu.type):
        return _spectrum_table(hdu)
    if hdu.dimensions not in (1, 2):
        return False
    if hdu.has_spectral_axis() or "DISPAXIS" in hdu.keywords or _spectroscopic(file):
        return True
    return hdu.dimensions == 2 and any(_wavelengths_of_rows(other, hdu) for other in file)


def _spectrum_table(hdu: HduFacts) -> bool:
    """A spectral coordinate and values (SDSS, HST x1d), or an OGIP spectrum (HDUCLAS1, or CHANNEL and COUNTS/RATE)."""
    if hdu.names & SPECTRAL_COLUMNS and hdu.names & SPECTRUM_VALUES:
        return True
    return _upper(hdu.keywords.get("HDUCLAS1")) == "SPECTRUM" or (
        "CHANNEL" in hdu.names and bool(hdu.names & {"COUNTS", "RATE"})
    )


def _spectroscopic(file: Sequence[HduFacts]) -> bool:
    """HST's OBSTYPE (STIS, COS) in the primary header: the file's images are spectra."""
    return bool(file) and _upper(file[0].keywords.get("OBSTYPE")) == "SPECTROSCOPIC"


def _upper(value: object) -> str:
    """A text card's value as compared here: stripped and upper-cased; '' for any other value."""
    return value.strip().upper() if isinstance(value, str) else ""


def _wavelengths_of_rows(wavelengths: HduFacts, rows: HduFacts) -> bool:
    """A 1-D image named as wavelengths (``WAVELENGTH_IMAGE``) as long as each row of ``rows``."""
    return (
        wavelengths.dimensions == 1
        and WAVELENGTH_IMAGE.fullmatch(wavelengths.extname) is not None
        and max(wavelengths.axes) == rows.axes[0]
    )


def _image(hdu: HduFacts, file: Sequence[HduFacts]) -> bool:
    return hdu.dimensions == 2


def _measurements(hdu: HduFacts, file: Sequence[HduFacts]) -> bool:
    return is_table(hdu.type)


#: The rules, in the order they are tried: the first that an HDU meets names the file's kind.
RULES: tuple[Rule, ...] = (
    Rule("visibility", "random groups with UU and VV parameters (UVFITS), or a table with UU and VV columns "
         "(FITS-IDI)", _visibilities),
    Rule("event", "an `EVENTS` table (`EXTNAME` or `HDUCLAS1`), or a table of `TIME` with `X` and `Y`, `PI`, "
         "`PHA` or `ENERGY`", _events),
    Rule("timeseries", "a table of `TIME` (or `TAI`, `MJD`, `BJD`, `HJD`, `JD`) with `FLUX`, `RATE`, `COUNTS`, "
         "`IRRADIANCE` (`SAP_FLUX`, `RATE1`, ...) or `CHANNELn`", _light_curve),
    Rule("spectrum", "an image of one or two axes with a spectral axis (CTYPE `WAVE`, `FREQ`, `VRAD`, ...), "
         "a `DISPAXIS`, or `OBSTYPE = 'SPECTROSCOPIC'` in the primary header; rows of spectra (a 2-D image "
         "beside a 1-D `*WAVELENGTH` image as long as its rows: DESI); a table of `WAVELENGTH` (`WAVE`, "
         "`LOGLAM`, `FREQ`, ...) with `FLUX` (`COUNTS`, `RATE`, ...); an OGIP spectrum (`HDUCLAS1 = "
         "'SPECTRUM'`, or `CHANNEL` with `COUNTS` or `RATE`)", _spectrum),
    Rule("cube", "an image of three or more axes longer than one pixel", _cube),
    Rule("image", "an image of two axes longer than one pixel", _image),
    Rule("measurements", "any other table", _measurements),
)


def dataproduct_type(lookup: Lookup) -> str | None:
    """The kind named by the first rule that an HDU of the file meets; None where none does."""
    facts = [HduFacts.of(hdu, keywords) for hdu, keywords in zip(lookup.hdus, lookup.headers, strict=True)]
    for rule in RULES:
        if any(rule.matches(hdu, facts) for hdu in facts):
            return rule.kind
    return None
