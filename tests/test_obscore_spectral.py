"""em_min/em_max/em_res_power from header keywords: stated bounds, energies, table columns, central
wavelengths; each header excerpt after a mission's documentation, each expected value worked out here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from astropy.io import fits

from handlers.obscore.record import observation_summary

from .support import ROOT
from .test_metadata import describe_file

C = 299_792_458.0  # m/s
HC = 6.62607015e-34 * C  # J m, both exact in SI
KEV = 1.602176634e-16  # J
ANGSTROM = 1e-10


def summary_of(tmp_path: Path, *hdus: Any, primary: dict[str, Any] | None = None) -> tuple[dict, list[str]]:
    """The summary and notes of a file of these HDUs (the primary's cards given as (value, comment)s)."""
    first = fits.PrimaryHDU()
    first.header.update(primary or {})
    path = tmp_path / "spectral.fits"
    fits.HDUList([first, *hdus]).writeto(path)
    notes: list[str] = []
    return observation_summary(describe_file(path), notes), notes  # type: ignore[arg-type]


def band(summary: dict) -> list[float | None]:
    return [summary["em_min"], summary["em_max"]]


def test_aia_wavelnth_with_waveunit(tmp_path):
    summary, notes = summary_of(tmp_path, primary={
        "TELESCOP": "SDO/AIA", "INSTRUME": "AIA_3", "WAVELNTH": (171, "[Angstrom] Wavelength"),
        "WAVEUNIT": ("angstrom", "Wavelength unit")})
    assert band(summary) == pytest.approx([171 * ANGSTROM] * 2, rel=1e-12)  # a central wavelength: min = max
    assert (summary["em_xel"], notes) == (None, [])


def test_eit_wavelnth_without_waveunit_is_in_angstroms(tmp_path):
    # EIT headers give WAVELNTH = 195 and no WAVEUNIT; sunpy's EITMap takes it in Angstrom.
    summary, notes = summary_of(tmp_path, primary={
        "TELESCOP": "SOHO", "INSTRUME": "EIT", "WAVELNTH": (195, "Wavelength")})
    assert band(summary) == pytest.approx([195 * ANGSTROM] * 2, rel=1e-12)
    assert notes == []


def test_euvi_wavelnth_is_in_angstroms(tmp_path):
    summary, _ = summary_of(tmp_path, primary={
        "TELESCOP": "STEREO_A", "INSTRUME": "SECCHI", "DETECTOR": "EUVI", "WAVELNTH": 304})
    assert band(summary) == pytest.approx([304 * ANGSTROM] * 2, rel=1e-12)


def test_kcor_wavelnth_is_in_nanometres(tmp_path):
    summary, _ = summary_of(tmp_path, primary={"INSTRUME": "COSMO K-Coronagraph", "WAVELNTH": 735})
    assert band(summary) == pytest.approx([735e-9] * 2, rel=1e-12)


def test_a_wavelnth_of_no_known_unit_is_left_out_and_said(tmp_path):
    summary, notes = summary_of(tmp_path, primary={"TELESCOP": "SOMESCOPE", "WAVELNTH": 6563})
    assert band(summary) == [None, None]
    assert notes == ["summary: WAVELNTH = 6563 has no unit (no unit card, no [unit] in its comment, no mission's "
                     "documented unit): em_min/em_max not taken from it"]


def test_a_bracketed_unit_in_the_comment_is_the_unit(tmp_path):
    summary, notes = summary_of(tmp_path, primary={"TELESCOP": "SOMESCOPE", "WAVELNTH": (656.3, "[nm] filter")})
    assert band(summary) == pytest.approx([656.3e-9] * 2, rel=1e-12)
    assert notes == []


def test_solarnet_wavemin_wavemax_with_a_power_of_ten_waveunit(tmp_path):
    # Solar Orbiter EUI's 174 A channel, SOLARNET-style: WAVEUNIT = -10 means 1e-10 m.
    summary, _ = summary_of(tmp_path, primary={
        "TELESCOP": "SOLO/EUI/FSI", "INSTRUME": "EUI", "WAVELNTH": (174, "[Angstrom] characteristic wavelength"),
        "WAVEMIN": (171, "[Angstrom] min wavelength"), "WAVEMAX": (185, "[Angstrom] max wavelength"),
        "WAVEUNIT": (-10, "Wavelength unit: Angstrom")})
    assert band(summary) == pytest.approx([171 * ANGSTROM, 185 * ANGSTROM], rel=1e-12)


def test_stis_minwave_maxwave_and_specres(tmp_path):
    # A STIS G430L primary header's "SPECTROSCOPIC INFORMATION" block.
    summary, notes = summary_of(tmp_path, primary={
        "TELESCOP": "HST", "INSTRUME": "STIS", "OPT_ELEM": "G430L",
        "SPECRES": (530.0, "approx. resolving power at central wavelength"),
        "CENWAVE": (4300, "central wavelength of spectrum"),
        "MINWAVE": (2900.0, "minimum wavelength in spectrum"), "MAXWAVE": (5700.0, "maximum wavelength in spectrum")})
    assert band(summary) == pytest.approx([2900 * ANGSTROM, 5700 * ANGSTROM], rel=1e-12)
    assert summary["em_res_power"] == 530.0
    assert notes == []


def test_stis_cenwave_alone(tmp_path):
    summary, _ = summary_of(tmp_path, primary={
        "TELESCOP": "HST", "INSTRUME": "STIS", "CENWAVE": (7751, "central wavelength of spectrum")})
    assert band(summary) == pytest.approx([7751 * ANGSTROM] * 2, rel=1e-12)


def test_cenwave_of_another_observatory_needs_its_unit(tmp_path):
    summary, notes = summary_of(tmp_path, primary={"TELESCOP": "Keck II", "CENWAVE": 7751})
    assert band(summary) == [None, None] and len(notes) == 1 and "CENWAVE = 7751 has no unit" in notes[0]


def test_eso_science_data_product_wavelmin_wavelmax_spec_res(tmp_path):
    # ESO's science data products standard: WAVELMIN/WAVELMAX in nm, SPEC_RES the resolving power.
    summary, _ = summary_of(tmp_path, primary={
        "TELESCOP": "ESO-VLT-U2", "INSTRUME": "XSHOOTER", "WAVELMIN": (533.66, "[nm] Minimum wavelength"),
        "WAVELMAX": (1020.0, "[nm] Maximum wavelength"), "SPEC_RES": (8900.0, "Spectral resolving power")})
    assert band(summary) == pytest.approx([533.66e-9, 1020e-9], rel=1e-12)
    assert summary["em_res_power"] == 8900.0


def test_a_chandra_like_energy_band_in_kev(tmp_path):
    # A Chandra/ACIS image filtered to 0.5-7 keV, its band stated in keV.
    summary, _ = summary_of(tmp_path, primary={
        "TELESCOP": "CHANDRA", "INSTRUME": "ACIS", "E_MIN": (0.5, "[keV] lower energy bound"),
        "E_MAX": (7.0, "[keV] upper energy bound")})
    # lambda = hc / E: the highest energy is the shortest wavelength.
    assert band(summary) == pytest.approx([HC / (7.0 * KEV), HC / (0.5 * KEV)], rel=1e-12)


def test_energy_bounds_in_ev_by_their_comment(tmp_path):
    summary, _ = summary_of(tmp_path, primary={
        "ENERG_LO": (300.0, "[eV] low energy"), "ENERG_HI": (8000.0, "[eV] high energy")})
    assert band(summary) == pytest.approx([HC / (8.0 * KEV), HC / (0.3 * KEV)], rel=1e-12)


def test_an_energy_bound_of_zero_gives_no_band_and_says_why(tmp_path):
    summary, notes = summary_of(tmp_path, primary={"E_MIN": 0.0, "E_MAX": 10.0})
    assert band(summary) == [None, None]
    assert notes == ["summary: E_MIN = 0.0, E_MAX = 10.0 in 'keV' gives no finite wavelengths: em_min/em_max "
                     "not taken from it"]


def test_a_fermi_lat_energy_data_subspace(tmp_path):
    # An LAT photon file's EVENTS header: DSTYP2 = 'ENERGY', DSUNI2 = 'MeV', DSVAL2 = '100:300000'.
    events = fits.BinTableHDU.from_columns([fits.Column("ENERGY", "E", unit="MeV", array=np.array([150.0]))],
                                           name="EVENTS")
    events.header.update({"TELESCOP": "GLAST", "INSTRUME": "LAT", "DSTYP1": "BIT_MASK(EVENT_CLASS,128,P8R3)",
                          "DSUNI1": "DIMENSIONLESS", "DSVAL1": "1:1", "DSTYP2": "ENERGY", "DSUNI2": "MeV",
                          "DSVAL2": "100:300000"})
    summary, _ = summary_of(tmp_path, events)
    assert band(summary) == pytest.approx([HC / (300e3 * 1e3 * KEV), HC / (100 * 1e3 * KEV)], rel=1e-12)


def test_a_wavelength_columns_data_range(tmp_path):
    table = fits.BinTableHDU.from_columns([
        fits.Column("WAVELENGTH", "D", unit="Angstrom", array=np.linspace(3600, 9800, 5)),
        fits.Column("FLUX", "E", unit="1e-17 erg/(s cm2 Angstrom)", array=np.ones(5))])
    table.header.update({"TDMIN1": 3600.0, "TDMAX1": 9800.0})
    summary, _ = summary_of(tmp_path, table)
    assert band(summary) == pytest.approx([3600 * ANGSTROM, 9800 * ANGSTROM], rel=1e-12)


def test_a_frequency_columns_legal_range(tmp_path):
    table = fits.BinTableHDU.from_columns([fits.Column("FREQ", "D", unit="GHz", array=np.array([90.0, 110.0]))])
    table.header.update({"TLMIN1": 85.0, "TLMAX1": 115.0})
    summary, _ = summary_of(tmp_path, table)
    assert band(summary) == pytest.approx([C / 115e9, C / 85e9], rel=1e-12)


def test_an_event_lists_energy_column_from_zero_is_no_band_and_no_error(tmp_path):
    # Chandra event files: ENERGY in eV with TLMIN = 0, TLMAX = 1e6 (the legal range, not the data's).
    events = fits.BinTableHDU.from_columns([fits.Column("energy", "E", unit="eV", array=np.array([1500.0]))],
                                           name="EVENTS")
    events.header.update({"TLMIN1": 0.0, "TLMAX1": 1.0e6})
    summary, notes = summary_of(tmp_path, events)
    assert (band(summary), notes) == ([None, None], [])


def test_a_column_of_positions_in_mm_is_no_spectral_range(tmp_path):
    table = fits.BinTableHDU.from_columns([fits.Column("DETX", "E", unit="mm", array=np.array([1.0]))])
    table.header.update({"TLMIN1": 1.0, "TLMAX1": 8192.0})
    summary, _ = summary_of(tmp_path, table)
    assert band(summary) == [None, None]


def test_bad_values_are_said_not_used(tmp_path):
    summary, notes = summary_of(tmp_path, primary={"INSTRUME": "AIA_1", "WAVELNTH": "white-light"})
    assert band(summary) == [None, None]
    assert notes == ["summary: WAVELNTH = 'white-light' in 'Angstrom': 'white-light' is not a number: "
                     "em_min/em_max not taken from it"]


def test_a_unit_that_is_no_spectral_unit_is_said(tmp_path):
    summary, notes = summary_of(tmp_path, primary={"WAVELNTH": 171, "WAVEUNIT": "s"})
    assert band(summary) == [None, None]
    assert notes == ["summary: WAVELNTH = 171 in 's': 's' is no unit of wavelength, frequency or energy: "
                     "em_min/em_max not taken from it"]


def test_a_unit_that_is_no_unit_is_said(tmp_path):
    summary, notes = summary_of(tmp_path, primary={"E_MIN": (0.3, "[kiloelectronvolt-ish] low"), "E_MAX": 8.0})
    assert band(summary) == [None, None]
    assert notes == ["summary: E_MIN = 0.3, E_MAX = 8.0 in 'kiloelectronvolt-ish': 'kiloelectronvolt-ish' is not a "
                     "unit: em_min/em_max not taken from it"]


def test_an_empty_waveunit_is_no_unit_card(tmp_path):
    summary, notes = summary_of(tmp_path, primary={"INSTRUME": "EIT", "WAVELNTH": 284, "WAVEUNIT": ""})
    assert (band(summary), notes) == (pytest.approx([284 * ANGSTROM] * 2, rel=1e-12), [])


def in_a_child(code: str) -> str:
    """What ``code`` prints, run where a timeout ends it: astropy would raise 10 to a huge exponent as an
    integer, which takes for ever, and a regression must fail the test, not hang the suite."""
    done = subprocess.run([sys.executable, "-c", "from handlers.obscore.record import observation_summary\n" + code],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_unit_with_an_absurd_exponent_is_refused_at_once():
    printed = in_a_child(
        "cards = [{'keyword': 'WAVELNTH', 'value': 171, 'comment': ''},\n"
        "         {'keyword': 'WAVEUNIT', 'value': '10**1000000000000 m', 'comment': ''}]\n"
        "notes = []\n"
        "summary = observation_summary([{'index': 0, 'type': 'PrimaryHDU', 'shape': [], 'cards': cards}], notes)\n"
        "print(summary['em_min'], notes)\n"
    )
    assert printed == ("None [\"summary: WAVELNTH = 171 in '10**1000000000000 m': '10**1000000000000 m' "
                       "is not a unit: em_min/em_max not taken from it\"]")


def test_names_read_again_for_the_filter_are_noted_once(tmp_path):
    summary, notes = summary_of(tmp_path, primary={"TELESCOP": 2.5, "OBJECT": 1.5, "FILTER": "r"})
    assert band(summary) == pytest.approx([5415.33823529 * ANGSTROM, 6989.140625 * ANGSTROM], rel=1e-6)  # SDSS r
    assert len(notes) == len(set(notes)) == 2, notes  # TELESCOP's and OBJECT's refusals, once each


def test_stated_bounds_come_before_a_central_wavelength_in_any_header(tmp_path):
    # CENWAVE in the primary, the extension's bounds: a band beats a point.
    extension = fits.ImageHDU(np.zeros((2, 2), dtype=np.float32))
    extension.header.update({"MINWAVE": 2900.0, "MAXWAVE": 5700.0})
    summary, _ = summary_of(tmp_path, extension, primary={"TELESCOP": "HST", "CENWAVE": 4300})
    assert band(summary) == pytest.approx([2900 * ANGSTROM, 5700 * ANGSTROM], rel=1e-12)


def test_a_data_unit_with_an_absurd_exponent_gives_no_ucd_at_once():
    """BUNIT reaches astropy's parser for o_ucd too: the same guard."""
    printed = in_a_child(
        "cards = [{'keyword': 'NAXIS', 'value': 2, 'comment': ''},\n"
        "         {'keyword': 'BUNIT', 'value': '10**9999999999999999 Jy', 'comment': ''}]\n"
        "hdu = {'index': 0, 'type': 'PrimaryHDU', 'shape': [8, 8], 'cards': cards, 'wcs': None}\n"
        "print(observation_summary([hdu])['o_ucd'])\n"
    )
    assert printed == "None"
