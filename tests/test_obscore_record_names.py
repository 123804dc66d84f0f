"""Names in the record: instruments and facilities normalized, placeholders dropped, filter codes refused."""

from __future__ import annotations

from typing import Any

import pytest
from astropy.io import fits
from astropy.utils.data import get_pkg_data_filename

from handlers.fits.hdu import describe_hdu
from handlers.obscore.record import observation_summary


def summary(*headers: dict[str, Any]) -> dict:
    """The record of a file whose HDUs have these cards (the first is the primary header)."""
    hdus = [describe_hdu(index, hdu) for index, hdu in enumerate(
        [fits.PrimaryHDU(header=fits.Header(headers[0])), *(fits.ImageHDU(header=fits.Header(h)) for h in headers[1:])]
    )]
    return dict(observation_summary(hdus))


@pytest.mark.parametrize(
    ("cards", "instrument", "facility"),
    [
        # SDO/AIA level 1 (JSOC): TELESCOP = 'SDO/AIA', INSTRUME = 'AIA_3', DETECTOR = 'AIA'
        ({"TELESCOP": "SDO/AIA", "INSTRUME": "AIA_3", "DETECTOR": "AIA", "WAVELNTH": 171}, "AIA", "SDO"),
        ({"TELESCOP": "SDO/AIA", "INSTRUME": "AIA_4"}, "AIA", "SDO"),
        # SDO/HMI (JSOC): INSTRUME = 'HMI_FRONT2' (the front camera), DETECTOR = 'HMI'
        ({"TELESCOP": "SDO/HMI", "INSTRUME": "HMI_FRONT2", "DETECTOR": "HMI"}, "HMI", "SDO"),
        ({"TELESCOP": "SDO/HMI", "INSTRUME": "HMI_SIDE1"}, "HMI", "SDO"),
        # HST ACS: the detector says which camera
        ({"TELESCOP": "HST", "INSTRUME": "ACS", "DETECTOR": "WFC"}, "ACS/WFC", "HST"),
        ({"TELESCOP": "STEREO_A", "INSTRUME": "SECCHI", "DETECTOR": "EUVI"}, "SECCHI/EUVI", "STEREO_A"),
        ({"OBSERVAT": "SOHO", "INSTRUME": "EIT"}, "EIT", "SOHO"),
    ],
)
def test_instrument_and_facility_are_normalized(cards: dict[str, Any], instrument: str, facility: str) -> None:
    record = summary(cards)
    assert (record["instrument_name"], record["facility_name"]) == (instrument, facility)
    assert record["obs_collection"] == cards.get("TELESCOP")  # the collection keeps TELESCOP as written


@pytest.mark.parametrize("placeholder", ["None", "NONE", "none", "N/A", "UNKNOWN", "Unknown", "", "   "])
def test_placeholders_are_no_names(placeholder: str) -> None:
    names = ("TELESCOP", "INSTRUME", "DETECTOR", "OBJECT", "OBS_ID", "FILTER")
    record = summary({name: placeholder for name in names})
    fields = ("obs_collection", "facility_name", "instrument_name", "target_name", "obs_id", "filter")
    assert {field: record[field] for field in fields} == dict.fromkeys(fields)


def test_a_placeholder_is_no_value_in_any_field_and_no_warning() -> None:
    """A time, an exposure or a position that says 'N/A' is absent, not a value to refuse."""
    notes: list[str] = []
    cards = {"EXPTIME": "N/A", "EXPOSURE": 30.0, "DATE-OBS": "UNKNOWN", "MJD-OBS": 55000.5, "RA_TARG": "NONE",
             "DEC_TARG": "NONE", "CALIBLEV": "None", "BUNIT": "N/A"}
    record = observation_summary([describe_hdu(0, fits.PrimaryHDU(header=fits.Header(cards)))], notes)
    assert (record["t_exptime"], record["t_min"], record["s_ra"], record["calib_level"]) == (30.0, 55000.5, None, None)
    assert notes == []


def test_a_placeholder_gives_way_to_the_next_keyword() -> None:
    """GBM's FILTER = 'None'; a placeholder OBJECT gives way to TARGNAME, DETECTOR 'N/A' to nothing."""
    record = summary({"TELESCOP": "GLAST", "INSTRUME": "GBM", "DETECTOR": "N/A", "FILTER": "None",
                      "OBJECT": "UNKNOWN", "TARGNAME": "GRB 090510"})
    assert (record["filter"], record["instrument_name"], record["target_name"]) == (None, "GBM", "GRB 090510")


def test_a_placeholder_in_an_extension_gives_way_to_a_later_extension() -> None:
    record = summary({}, {"OBJECT": "NONE"}, {"OBJECT": "M 87"})
    assert record["target_name"] == "M 87"


def test_wfpc2_filter_number_is_not_its_name() -> None:
    """WFPC2 writes FILTER1 = 33 (the wheel's position) and FILTNAM1 = 'F555W' (the name)."""
    record = summary({"TELESCOP": "HST", "INSTRUME": "WFPC2", "FILTER1": 33, "FILTER2": 0, "FILTNAM1": "F555W",
                      "FILTNAM2": ""})
    assert record["filter"] == "F555W"


@pytest.mark.parametrize("code", [33, "33", "0", "-1", "1.5"])
def test_no_number_is_a_filter_name(code: Any) -> None:
    assert summary({"FILTER": code})["filter"] is None


def test_stis_names_from_astropy_test_data() -> None:
    """o4sp040b0_raw.fits: TELESCOP 'HST', INSTRUME 'STIS', DETECTOR 'CCD', FILTER 'Clear' (no filter)."""
    path = get_pkg_data_filename("io/fits/tests/data/o4sp040b0_raw.fits", package="astropy")
    with fits.open(path) as hdul:
        record = observation_summary([describe_hdu(index, hdu) for index, hdu in enumerate(hdul)])
    assert (record["facility_name"], record["instrument_name"], record["filter"]) == ("HST", "STIS/CCD", None)
    assert (record["target_name"], record["obs_id"]) == ("HD101998", "o4sp040b0")
