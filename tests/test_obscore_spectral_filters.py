"""em_min/em_max from the filter name through the committed passband table, a filter per system.

Expected bounds are the SVO Filter Profile Service's WavelengthMin/WavelengthMax (Å) for the filter
ID named, as its VOTables give them; where the table computed a row from a transmission curve
(HST's ACS/WFC, WFC3, WFPC2; Johnson U, B) the band is checked to hold the filter's pivot wavelength
about as the instrument's handbook gives it, and to be wider than the handbook's filter width.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from astropy.io import fits

from handlers.obscore import filters
from handlers.obscore.filters import passband
from handlers.obscore.record import observation_summary

from .test_metadata import describe_file

ANGSTROM = 1e-10


def summary_of(tmp_path: Path, **cards: Any) -> dict:
    path = tmp_path / "filter.fits"
    fits.PrimaryHDU(header=fits.Header(cards)).writeto(path)
    return observation_summary(describe_file(path))  # type: ignore[arg-type]


@pytest.mark.parametrize(("cards", "svo_id", "svo_min", "svo_max"), [
    ({"TELESCOP": "JWST", "INSTRUME": "NIRCAM", "DETECTOR": "NRCALONG", "FILTER": "F200W", "PUPIL": "CLEAR"},
     "JWST/NIRCam.F200W", 17232.791774174, 22593.627251548),
    ({"TELESCOP": "JWST", "INSTRUME": "MIRI", "DETECTOR": "MIRIMAGE", "FILTER": "F560W"},
     "JWST/MIRI.F560W", 48847.4, 64242.6),
    ({"TELESCOP": "SDSS 2.5-M", "FILTER": "r"}, "SLOAN/SDSS.r", 5415.33823529, 6989.140625),
    ({"TELESCOP": "KPNO 0.9m", "FILTER": "V"}, "Generic/Johnson.V", 4698.0, 7204.0),
    ({"TELESCOP": "CTIO 1.0m", "FILTER": "R"}, "Generic/Cousins.R", 5500.0, 7950.0),
    ({"ORIGIN": "2MASS", "FILTER": "k"}, "2MASS/2MASS.Ks", 19543.6923043, 23552.4000053),
    ({"TELESCOP": "PS1", "FILTER": "g.00000"}, "PAN-STARRS/PS1.g", 3943.4, 5593.2666666667),
    ({"TELESCOP": "GALEX", "FILTER": "NUV"}, "GALEX/GALEX.NUV", 1692.5167346469, 3006.6670270892),
    ({"TELESCOP": "HST", "INSTRUME": "ACS", "DETECTOR": "HRC", "FILTER1": "F435W", "FILTER2": "CLEAR2S"},
     "HST/ACS_HRC.F435W", 3599.04912314, 4861.27897191),
])
def test_a_filter_per_system_gives_svos_band(tmp_path, cards, svo_id, svo_min, svo_max):
    summary = summary_of(tmp_path, **cards)
    assert [summary["em_min"], summary["em_max"]] == pytest.approx([svo_min * ANGSTROM, svo_max * ANGSTROM],
                                                                  rel=1e-5), svo_id
    assert (summary["em_res_power"], summary["em_xel"]) == (None, None)


@pytest.mark.parametrize(("cards", "pivot", "width"), [
    # ACS instrument handbook, about: F814W pivot 8045 Å, width 2511 Å (WFC).
    ({"TELESCOP": "HST", "INSTRUME": "ACS", "DETECTOR": "WFC", "FILTER1": "CLEAR1L", "FILTER2": "F814W"}, 8045, 2511),
    # WFC3 instrument handbook, about: IR F160W pivot 15369 Å, width 2683 Å; UVIS F275W pivot 2704 Å, width 398 Å.
    ({"TELESCOP": "HST", "INSTRUME": "WFC3", "DETECTOR": "IR", "FILTER": "F160W"}, 15369, 2683),
    ({"TELESCOP": "HST", "INSTRUME": "WFC3", "DETECTOR": "UVIS", "FILTER": "F275W"}, 2704, 398),
    # WFPC2 instrument handbook, about: F555W pivot 5443 Å, effective width 1228 Å.
    ({"TELESCOP": "HST", "INSTRUME": "WFPC2", "FILTNAM1": "F555W"}, 5443, 1228),
    # Bessell's UBVRI, about: U at 3663 Å, FWHM 650 Å; B at 4361 Å, FWHM 890 Å.
    ({"TELESCOP": "Lick 1m", "FILTER": "U"}, 3663, 650),
    ({"TELESCOP": "Lick 1m", "FILTER": "B"}, 4361, 890),
])
def test_bands_from_curves_hold_the_handbooks_pivot_and_width(tmp_path, cards, pivot, width):
    summary = summary_of(tmp_path, **cards)
    low, high = summary["em_min"] / ANGSTROM, summary["em_max"] / ANGSTROM
    assert low < pivot < high
    assert high - low > width  # 1%-of-peak bounds are wider than any FWHM


def test_a_filter_name_means_its_instruments_band():
    acs, wfpc2 = (passband("F606W", "HST", instrument, "WFC") for instrument in ("ACS", "WFPC2"))
    assert acs is not None and wfpc2 is not None
    assert (acs.system, wfpc2.system) == ("HST/ACS/WFC", "HST/WFPC2")
    assert acs.min_m != wfpc2.min_m


def test_names_outside_the_table_give_no_band(tmp_path):
    summary = summary_of(tmp_path, TELESCOP="HST", INSTRUME="ACS", DETECTOR="SBC", FILTER1="F140LP")
    assert (summary["filter"], summary["em_min"], summary["em_max"]) == ("F140LP", None, None)
    # A bare band name counts in its own system's case only: SDSS's u is not Johnson's U.
    assert passband("u", None, None, None).system == "SDSS"  # type: ignore[union-attr]
    assert passband("u", None, None, None) != passband("U", None, None, None)
    assert passband("Y", None, None, None) is None
    assert passband("F200W", "JWST", "NIRSPEC", None) is None


def test_the_table_covers_every_system_with_a_source_and_ordered_bounds():
    text = (Path(filters.__file__).parent / "filters.csv").read_text()
    rows = list(csv.DictReader(io.StringIO("".join(line for line in text.splitlines(True) if line[0] != "#"))))
    systems = {row["system"] for row in rows}
    assert systems == {"HST/ACS/WFC", "HST/ACS/HRC", "HST/WFC3", "HST/WFPC2", "JWST/NIRCam", "JWST/MIRI", "SDSS",
                       "Johnson-Cousins", "2MASS", "PS1", "GALEX"}
    assert all(0 < float(row["wavelength_min_angstrom"]) < float(row["wavelength_max_angstrom"]) for row in rows)
    assert all(row["source"].startswith(("SVO FPS ", "pyphot 2.1.1 ")) for row in rows)
    assert len(filters.passbands()) == len(rows)  # no (system, filter) twice
    bands = {system: sorted(row["filter"] for row in rows if row["system"] == system) for system in systems}
    assert (bands["SDSS"], bands["PS1"], bands["2MASS"], bands["GALEX"], bands["Johnson-Cousins"]) == (
        sorted("ugriz"), sorted("grizy"), ["H", "J", "Ks"], ["FUV", "NUV"], sorted("UBVRI"))
