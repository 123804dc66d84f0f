"""dataproduct_type, rule by rule, on files written here (headers after the missions' data models)
or from astropy's test data, described by describe_hdu as the pipeline describes them.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from astropy.utils.data import get_pkg_data_filename

from handlers.fits.hdu import describe_hdu
from handlers.obscore.kinds import RULES
from handlers.obscore.record import observation_summary

from .support import ROOT


def astropy_file(name: str) -> str:
    return get_pkg_data_filename(f"io/fits/tests/data/{name}", package="astropy")


def summary_of(path: str | Path) -> dict:
    with fits.open(path) as hdul:
        return dict(observation_summary([describe_hdu(index, hdu) for index, hdu in enumerate(hdul)]))


def kind_of(tmp_path: Path, *hdus: fits.hdu.base.ExtensionHDU, primary: fits.PrimaryHDU | None = None) -> str | None:
    path = tmp_path / "file.fits"
    fits.HDUList([primary or fits.PrimaryHDU(), *hdus]).writeto(path, overwrite=True)
    return summary_of(path)["dataproduct_type"]


def table(name: str | None, columns: dict[str, str], rows: int = 3, **cards: object) -> fits.BinTableHDU:
    """A binary table of ``rows`` zeros in columns {TTYPE: TFORM}, with header ``cards``."""
    hdu = fits.BinTableHDU.from_columns([fits.Column(column, form, array=_zeros(form, rows))
                                         for column, form in columns.items()], name=name)
    hdu.header.update(cards)
    return hdu


def _zeros(form: str, rows: int) -> np.ndarray:
    """Rows of empty text for an 'nA' column, of zeros (repeated n times) for the others."""
    if form.endswith("A"):
        return np.array([""] * rows)
    repeat = int(form[:-1] or 1)
    return np.zeros((rows, repeat) if repeat > 1 else rows)


def image(shape: tuple[int, ...], name: str | None = None, **cards: object) -> fits.ImageHDU:
    hdu = fits.ImageHDU(np.zeros(shape, np.float32), name=name)
    hdu.header.update(cards)
    return hdu


def test_every_kind_of_the_vocabulary_but_sed_has_a_rule() -> None:
    """ObsCore 1.1's dataproduct_type vocabulary (section 4.1); no header tells an SED apart."""
    assert {rule.kind for rule in RULES} == {
        "image", "cube", "spectrum", "timeseries", "visibility", "event", "measurements"}


def test_the_readme_states_the_rules_in_their_order() -> None:
    section = (ROOT / "README.md").read_text().split("`dataproduct_type`, rule by rule", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| (.+) \|$", section, re.M)
    assert rows == [(rule.kind, rule.says) for rule in RULES]


# -- visibilities ------------------------------------------------------------------------------


def test_astropy_random_groups_file_is_visibilities() -> None:
    """ATCA data written by Miriad: PTYPE UU, VV, WW, BASELINE, DATE."""
    assert summary_of(astropy_file("random_groups.fits"))["dataproduct_type"] == "visibility"


def test_random_groups_without_baseline_coordinates_are_no_visibilities() -> None:
    """astropy's group.fits: groups with parameters abc, xyz: no rule knows them."""
    assert summary_of(astropy_file("group.fits"))["dataproduct_type"] is None


def uvfits(path: Path, groups: int = 4) -> None:
    """A UVFITS file as AIPS Memo 117 lays it out: COMPLEX, STOKES (RR LL RL LR), FREQ, IF, RA, DEC."""
    shape = (groups, 1, 1, 1, 2, 4, 3)  # numpy order: DEC, RA, IF, FREQ, STOKES, COMPLEX
    parameters = ["UU---SIN", "VV---SIN", "WW---SIN", "BASELINE", "DATE"]
    pardata = [np.arange(groups, dtype=np.float32) * k for k in (1e-6, 2e-6, 3e-6, 257, 1)]
    data = fits.GroupData(np.zeros(shape, np.float32), parnames=parameters, pardata=pardata, bitpix=-32)
    hdu = fits.GroupsHDU(data)
    axes = [("COMPLEX", 1.0, 1.0), ("STOKES", -1.0, -1.0), ("FREQ", 1.4e9, 1e6), ("IF", 1.0, 1.0),
            ("RA", 83.63, 1.0), ("DEC", 22.01, 1.0)]
    for n, (ctype, crval, cdelt) in enumerate(axes, start=2):
        hdu.header.update({f"CTYPE{n}": ctype, f"CRVAL{n}": crval, f"CDELT{n}": cdelt, f"CRPIX{n}": 1.0})
    hdu.header.update({"TELESCOP": "VLA", "INSTRUME": "VLA", "OBJECT": "3C144", "BUNIT": "JY"})
    hdu.writeto(path)


def test_uvfits_is_visibilities_and_its_groups_are_described(tmp_path: Path) -> None:
    uvfits(tmp_path / "vla.uvfits")

    with fits.open(tmp_path / "vla.uvfits") as hdul:
        document = describe_hdu(0, hdul[0])
    summary = summary_of(tmp_path / "vla.uvfits")

    assert summary["dataproduct_type"] == "visibility"
    # NAXIS2..NAXIS7 = 3, 4, 2, 1, 1, 1, in numpy order as an image's shape
    assert document["groups"] == {"count": 4, "shape": [1, 1, 1, 2, 4, 3],
                                  "parameters": ["UU---SIN", "VV---SIN", "WW---SIN", "BASELINE", "DATE"]}
    assert (summary["pol_states"], summary["pol_xel"]) == ("/RR/LL/RL/LR/", 4)  # codes -1, -2, -3, -4
    assert summary["o_ucd"] == "phot.flux.density"  # BUNIT = 'JY'


def test_astropy_random_groups_document() -> None:
    with fits.open(astropy_file("random_groups.fits")) as hdul:
        document = describe_hdu(0, hdul[0])

    # GCOUNT = 3, PCOUNT = 5, NAXIS2..6 = 3 (COMPLEX), 1 (STOKES), 128 (FREQ), 1, 1
    assert document["groups"] == {"count": 3, "parameters": ["UU", "VV", "WW", "BASELINE", "DATE"],
                                  "shape": [1, 1, 128, 1, 3]}
    assert (document["bitpix"], "shape" not in document, "columns" not in document) == (-32, True, True)


def test_a_pcount_beyond_the_cards_names_no_more_parameters_than_they_hold() -> None:
    """PCOUNT = 10**9 in a header of 10 cards: 10 names at most (a list of 10**9 would exhaust memory)."""
    cards = ["SIMPLE  =                    T", "BITPIX  =                  -32", "NAXIS   =                    2",
             "NAXIS1  =                    0", "NAXIS2  =                    3", "GROUPS  =                    T",
             "PCOUNT  =           1000000000", "GCOUNT  =                    0", "PTYPE1  = 'UU      '", "END"]
    with fits.open(io.BytesIO("".join(card.ljust(80) for card in cards).ljust(2880).encode())) as hdul:
        groups = describe_hdu(0, hdul[0])["groups"]

    assert groups == {"count": 0, "parameters": ["UU", *[None] * 8], "shape": [3]}  # 9 cards before END


def test_fits_idi_uv_data_is_visibilities_though_it_has_time_and_flux(tmp_path: Path) -> None:
    """FITS-IDI's UV_DATA table (AIPS Memo 102): UU, VV, WW, DATE, TIME, BASELINE, ..., FLUX."""
    uv_data = table("UV_DATA", {"UU": "1E", "VV": "1E", "WW": "1E", "DATE": "1D", "TIME": "1D",
                                "BASELINE": "1J", "FLUX": "24E"})
    assert kind_of(tmp_path, uv_data) == "visibility"


# -- events --------------------------------------------------------------------------------------


def test_astropy_chandra_event_list() -> None:
    """A real ACIS event file: EVENTS with time, ccd_id, ..., x, y, pha, energy, pi (lower case)."""
    assert summary_of(astropy_file("chandra_time.fits"))["dataproduct_type"] == "event"


@pytest.mark.parametrize(
    "columns",
    [
        {"TIME": "1D", "X": "1E", "Y": "1E"},  # an unnamed ACIS-like list: sky position per photon
        {"TIME": "1D", "PHA": "1I"},  # GBM's TTE: time and channel
        {"TIME": "1D", "ENERGY": "1E", "RA": "1E", "DEC": "1E"},  # Fermi LAT FT1
        {"TIME": "1D", "PI": "1J"},
    ],
)
def test_a_table_of_photons_is_an_event_list(tmp_path: Path, columns: dict[str, str]) -> None:
    assert kind_of(tmp_path, table("PHOTONS", columns)) == "event"


@pytest.mark.parametrize(("name", "cards"), [("EVENTS", {}), ("STDEVT", {"HDUCLAS1": "EVENTS"})])
def test_an_events_extension_is_an_event_list_whatever_its_columns(
    tmp_path: Path, name: str, cards: dict[str, str]
) -> None:
    primary = fits.PrimaryHDU()
    primary.header.update({"TELESCOP": "CHANDRA", "INSTRUME": "ACIS"})
    events = table(name, {"time": "1D", "ccd_id": "1I", "chipx": "1I"}, TIMESYS="TT", **cards)
    gti = table("GTI", {"START": "1D", "STOP": "1D"})

    assert kind_of(tmp_path, events, gti, primary=primary) == "event"
    assert kind_of(tmp_path, table("STDGTI", {"time": "1D", "ccd_id": "1I", "chipx": "1I"})) == "measurements"


# -- light curves --------------------------------------------------------------------------------


def test_goes_xrs_light_curve(tmp_path: Path) -> None:
    """GOES XRS FITS (as sunpy reads them): EDGES, then FLUXES with TIME and a 2-channel FLUX in W/m^2."""
    primary = fits.PrimaryHDU()
    primary.header.update({"TELESCOP": "GOES 15", "INSTRUME": "X-ray Detector", "DATE-OBS": "07/06/2011"})
    edges = table("EDGES", {"EDGES": "4E"}, rows=1)
    fluxes = fits.BinTableHDU.from_columns(
        [fits.Column("TIME", "1000D", unit="seconds", array=np.zeros((1, 1000))),
         fits.Column("FLUX", "2000E", unit="W/m^2", dim="(2,1000)", array=np.zeros((1, 1000, 2)))],
        name="FLUXES",
    )
    path = tmp_path / "go1520110607.fits"
    fits.HDUList([primary, edges, fluxes]).writeto(path)

    summary = summary_of(path)

    assert summary["dataproduct_type"] == "timeseries"
    assert summary["o_ucd"] == "phot.flux"  # W/m^2: an energy flux


@pytest.mark.parametrize(
    ("name", "columns"),
    [
        ("IRRADIANCE", {"TIME": "1D", "CHANNEL1": "1E", "CHANNEL2": "1E", "CHANNEL3": "1E", "CHANNEL4": "1E"}),  # LYRA
        ("SPECTRUM", {"COUNTS": "8I", "EXPOSURE": "1E", "QUALITY": "1I", "TIME": "1D", "ENDTIME": "1D"}),  # GBM CTIME
        ("RATE", {"TIME": "1D", "RATE": "1E", "ERROR": "1E", "FRACEXP": "1E"}),  # an OGIP light curve
        ("LIGHTCURVE", {"TIME": "1D", "SAP_FLUX": "1E", "PDCSAP_FLUX": "1E"}),  # TESS, Kepler
        ("LINESDATA", {"TAI": "1D", "SOD": "1D", "LINE_IRRADIANCE": "30E"}),  # EVE's lines
    ],
)
def test_a_table_of_times_and_measured_values_is_a_light_curve(
    tmp_path: Path, name: str, columns: dict[str, str]
) -> None:
    assert kind_of(tmp_path, table(name, columns, HDUCLAS1="SPECTRUM")) == "timeseries"


def test_a_light_curve_beside_its_aperture_image_is_a_light_curve(tmp_path: Path) -> None:
    """A TESS light-curve file: LIGHTCURVE, then the 2-D APERTURE image."""
    light_curve = table("LIGHTCURVE", {"TIME": "1D", "SAP_FLUX": "1E"})
    assert kind_of(tmp_path, light_curve, image((11, 11), "APERTURE")) == "timeseries"


def test_times_without_a_measured_value_are_no_light_curve(tmp_path: Path) -> None:
    """DESI's EXP_FIBERMAP has MJD and EXPTIME but no flux: measurements."""
    assert kind_of(tmp_path, table("EXP_FIBERMAP", {"TARGETID": "1K", "MJD": "1D", "EXPTIME": "1E"})) == "measurements"


# -- spectra -------------------------------------------------------------------------------------


def test_astropy_stis_long_slit_spectrum() -> None:
    """o4sp040b0_raw.fits: OBSTYPE = 'SPECTROSCOPIC', SCI 62 x 44 with CTYPE1 = 'LAMBDA', DISPAXIS = 1."""
    assert summary_of(astropy_file("o4sp040b0_raw.fits"))["dataproduct_type"] == "spectrum"


@pytest.mark.parametrize(
    ("cards", "kind"),
    [
        ({"CTYPE1": "WAVE", "CUNIT1": "Angstrom", "CTYPE2": "LINEAR"}, "spectrum"),  # a spectral WCS axis
        ({"CTYPE1": "LINEAR", "CTYPE2": "LINEAR", "DISPAXIS": 2}, "spectrum"),  # IRAF's dispersion axis
        ({"CTYPE1": "LINEAR", "CTYPE2": "FREQ"}, "spectrum"),
        ({"CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CTYPE3": "WAVE"}, "image"),  # a degenerate spectral axis
    ],
)
def test_a_two_dimensional_spectrum(tmp_path: Path, cards: dict[str, object], kind: str) -> None:
    assert kind_of(tmp_path, image((1, 40, 300), "SCI", **cards)) == kind


def test_spectroscopic_obstype_makes_the_images_spectra(tmp_path: Path) -> None:
    primary = fits.PrimaryHDU()
    primary.header.update({"TELESCOP": "HST", "INSTRUME": "STIS", "OBSTYPE": "SPECTROSCOPIC"})
    assert kind_of(tmp_path, image((44, 62), "SCI"), primary=primary) == "spectrum"
    primary.header["OBSTYPE"] = "IMAGING"
    assert kind_of(tmp_path, image((44, 62), "SCI"), primary=primary) == "image"


def test_one_dimensional_spectrum_image(tmp_path: Path) -> None:
    spectrum = image((2000,), None, CTYPE1="WAVE", CUNIT1="Angstrom", CRVAL1=3600.0, CDELT1=2.0, CRPIX1=1.0,
                     BUNIT="erg/s/cm2/Angstrom")
    primary = fits.PrimaryHDU()
    assert kind_of(tmp_path, spectrum, primary=primary) == "spectrum"
    assert summary_of(tmp_path / "file.fits")["o_ucd"] == "phot.flux.density"
    assert kind_of(tmp_path, image((2000,), None)) is None  # a 1-D image of no known axis


def desi_coadd(path: Path, spectra: int = 5, wavelengths: int = 2751) -> None:
    """A DESI coadd as its data model lays it out (desidatamodel, coadd-SURVEY-PROGRAM-PIXNUM.fits):
    FIBERMAP, EXP_FIBERMAP, then per camera WAVELENGTH, FLUX, IVAR, MASK, RESOLUTION.
    """
    primary = fits.PrimaryHDU()
    primary.header.update({"TELESCOP": "Mayall", "INSTRUME": "DESI", "SURVEY": "main", "PROGRAM": "dark"})
    hdus: list[fits.hdu.base.ExtensionHDU] = [
        table("FIBERMAP", {"TARGETID": "1K", "TARGET_RA": "1D", "TARGET_DEC": "1D", "FLUX_G": "1E",
                           "FLUX_R": "1E", "MEAN_MJD": "1D"}, rows=spectra),
        table("EXP_FIBERMAP", {"TARGETID": "1K", "NIGHT": "1J", "EXPID": "1J", "MJD": "1D", "EXPTIME": "1D"}),
    ]
    for camera in "BRZ":
        hdus += [
            image((wavelengths,), f"{camera}_WAVELENGTH", BUNIT="Angstrom"),
            image((spectra, wavelengths), f"{camera}_FLUX", BUNIT="10**-17 erg/(s cm2 Angstrom)"),
            image((spectra, wavelengths), f"{camera}_IVAR", BUNIT="10**+34 (s2 cm4 Angstrom2) / erg2"),
            image((spectra, 11, wavelengths), f"{camera}_RESOLUTION"),
        ]
    fits.HDUList([primary, *hdus]).writeto(path)


def test_desi_rows_of_spectra(tmp_path: Path) -> None:
    desi_coadd(tmp_path / "coadd-main-dark-10016.fits")

    summary = summary_of(tmp_path / "coadd-main-dark-10016.fits")

    # not "cube" for the 3-D resolution matrices, not "image" for the N x M fluxes
    assert summary["dataproduct_type"] == "spectrum"
    assert summary["o_ucd"] == "phot.flux.density"  # B_FLUX's unit; B_WAVELENGTH's Angstrom is no observable


def test_rows_need_wavelengths_as_long_as_they_are(tmp_path: Path) -> None:
    assert kind_of(tmp_path, image((2751,), "B_WAVELENGTH"), image((5, 2000), "B_FLUX")) == "image"


@pytest.mark.parametrize(
    ("name", "columns", "cards"),
    [
        ("COADD", {"flux": "1E", "loglam": "1E", "ivar": "1E"}, {}),  # SDSS spec-*.fits
        ("SCI", {"WAVELENGTH": "1024D", "FLUX": "1024E", "ERROR": "1024E"}, {}),  # HST COS/STIS x1d
        ("SPECTRUM", {"CHANNEL": "1J", "COUNTS": "1J"}, {}),  # OGIP type I PHA (INTEGRAL SPI, ...)
        ("SPECTRUM", {"CHANNEL": "1J", "RATE": "1E", "STAT_ERR": "1E"}, {"HDUCLAS1": "SPECTRUM"}),
    ],
)
def test_a_table_of_a_spectrum(tmp_path: Path, name: str, columns: dict[str, str], cards: dict[str, object]) -> None:
    assert kind_of(tmp_path, table(name, columns, **cards)) == "spectrum"


# -- images, cubes, measurements -----------------------------------------------------------------


def test_a_spectral_cube_is_a_cube(tmp_path: Path) -> None:
    cube = image((16, 64, 64), "DATA", CTYPE1="RA---SIN", CTYPE2="DEC--SIN", CTYPE3="VRAD", CUNIT3="m/s",
                 CRVAL3=0.0, CDELT3=1000.0, CRPIX3=1.0, RESTFRQ=1.420405752e9)
    assert kind_of(tmp_path, cube) == "cube"


def test_an_image_wins_over_its_table_of_headers(tmp_path: Path) -> None:
    """An HST drizzled file: SCI, WHT, CTX images, then HDRTAB (ROOTNAME, EXPTIME, ...)."""
    hdrtab = table("HDRTAB", {"ROOTNAME": "9A", "EXPTIME": "1D"})
    assert kind_of(tmp_path, image((100, 100), "SCI"), image((100, 100), "WHT"), hdrtab) == "image"


def test_a_plain_table_holds_measurements(tmp_path: Path) -> None:
    assert kind_of(tmp_path, table("CATALOG", {"RA": "1D", "DEC": "1D", "G": "1E"})) == "measurements"


def test_no_data_is_no_kind(tmp_path: Path) -> None:
    assert kind_of(tmp_path, image((0,), "EMPTY")) is None
