"""observation_summary on documents of files written and reopened here, and on odd headers."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from astropy.coordinates import FK4, SkyCoord
from astropy.io import fits
from astropy.io.fits.hdu.base import ExtensionHDU
from astropy.time import Time

from handlers.fits.hdu import describe_hdu
from handlers.obscore.columns import COLUMNS
from handlers.obscore.record import observation_summary

RA, DEC = 11.354, 40.6477
SCALE = 0.05 / 3600  # degrees per pixel
KEYS = [*(column.name for column in COLUMNS), "filter"]
#: What every record without a source says: the columns no header gives, and the format of a FITS file.
NO_SOURCE = {**dict.fromkeys(KEYS), "access_format": "application/fits"}


def tan_header(lon: float = RA, lat: float = DEC, **changes: Any) -> fits.Header:
    """A north-up TAN WCS centred on (lon, lat) for a 100 x 100 image, 0.05"/pixel."""
    cards = {
        "CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CRVAL1": lon, "CRVAL2": lat, "CRPIX1": 50.5,
        "CRPIX2": 50.5, "CD1_1": -SCALE, "CD1_2": 0.0, "CD2_1": 0.0, "CD2_2": SCALE, "RADESYS": "ICRS",
    }
    cards.update(changes)
    return fits.Header({key: value for key, value in cards.items() if value is not None})


def summarize(tmp_path: Path, *hdus: ExtensionHDU, primary: fits.PrimaryHDU | None = None) -> dict:
    """The summary of a file written to disk and reopened lazily, as it goes through JSON."""
    path = tmp_path / "test.fits"
    fits.HDUList([primary or fits.PrimaryHDU(), *hdus]).writeto(path)
    with fits.open(path) as hdul:
        summary = observation_summary([describe_hdu(index, hdu) for index, hdu in enumerate(hdul)])
    assert list(summary) == KEYS
    return json.loads(json.dumps(summary, allow_nan=False))


def position(summary: dict) -> tuple[float, float]:
    return summary["s_ra"], summary["s_dec"]


def document(keywords: dict[str, Any], **fields: Any) -> dict:
    """A describe_hdu-like document holding these keyword values."""
    cards = [{"keyword": key, "value": value, "comment": ""} for key, value in keywords.items()]
    return {"type": "PrimaryHDU", "shape": [], "wcs": None, **fields, "cards": cards}


def test_hst_like_drizzle_file(tmp_path):
    rng = np.random.default_rng(42)
    primary = fits.PrimaryHDU()
    primary.header.update({
        "TELESCOP": "HST", "INSTRUME": "ACS", "DETECTOR": "WFC", "TARGNAME": "ANDROMEDA-HALO11",
        "ROOTNAME": "j8hpdcaoq", "RA_TARG": 11.3, "DEC_TARG": 40.6, "EXPTIME": 1080.0,
        "EXPSTART": 53231.18736, "EXPEND": 53231.20286, "FILTER1": "F850LP", "FILTER2": "CLEAR2L",
        "DATE-OBS": "2004-08-14",
    })
    sci = rng.normal(0.1, 0.02, (100, 100)).astype(np.float32)
    wht = rng.uniform(900, 1100, (100, 100)).astype(np.float32)
    images = [
        fits.ImageHDU(sci, tan_header(), name="SCI_F850LP"),
        fits.ImageHDU(wht, tan_header(), name="WHT_F850LP"),
    ]

    summary = summarize(tmp_path, *images, primary=primary)

    assert summary == {
        **NO_SOURCE,
        "dataproduct_type": "image",
        "obs_collection": "HST",
        "facility_name": "HST",
        "instrument_name": "ACS/WFC",
        "target_name": "ANDROMEDA-HALO11",
        "obs_id": "j8hpdcaoq",
        "s_ra": pytest.approx(RA, abs=1e-9),  # the WCS centre, not RA_TARG
        "s_dec": pytest.approx(DEC, abs=1e-9),
        "s_fov": pytest.approx(100 * math.sqrt(2) * SCALE, rel=1e-4),
        "s_region": summary["s_region"],
        "s_resolution": None,  # no PSF keyword: the pixel scale is no resolution
        "s_xel1": 100,
        "s_xel2": 100,
        "t_min": 53231.18736,
        "t_max": 53231.20286,
        "t_exptime": 1080.0,
        "t_resolution": None,
        "t_xel": None,
        # ACS/WFC's F850LP passband (filters.csv), 8005.43 to 10924.6 Å
        "em_min": pytest.approx(8005.43e-10, rel=1e-12),
        "em_max": pytest.approx(10924.6e-10, rel=1e-12),
        "em_res_power": None,
        "em_xel": None,
        "filter": "F850LP",
    }
    words = summary["s_region"].split()
    assert words[:2] == ["POLYGON", "ICRS"]
    corners = np.array(words[2:], dtype=float).reshape(4, 2)
    half_width = 50 * SCALE
    latitudes = sorted(set(corners[:, 1].round(7)))
    np.testing.assert_allclose(latitudes, [DEC - half_width, DEC + half_width], atol=1e-6)
    assert corners[:, 0].min() < RA < corners[:, 0].max()


@pytest.mark.parametrize(
    ("changes", "frame"),
    [
        ({"CTYPE1": "GLON-TAN", "CTYPE2": "GLAT-TAN", "RADESYS": None}, "galactic"),
        ({"RADESYS": "FK4", "EQUINOX": 1950.0}, FK4(equinox=Time(1950.0, format="byear"))),
        ({"CTYPE1": "ELON-TAN", "CTYPE2": "ELAT-TAN", "RADESYS": None}, "barycentricmeanecliptic"),
    ],
)
def test_wcs_centre_is_converted_to_icrs(tmp_path, changes, frame):
    lon, lat = 121.17, -21.57
    image = fits.ImageHDU(np.zeros((100, 100), np.float32), tan_header(lon, lat, **changes))
    summary = summarize(tmp_path, image)

    expected = SkyCoord(lon, lat, unit="deg", frame=frame).icrs
    assert summary["s_ra"] == pytest.approx(expected.ra.degree, abs=1e-9)
    assert summary["s_dec"] == pytest.approx(expected.dec.degree, abs=1e-9)
    assert abs(summary["s_ra"] - lon) + abs(summary["s_dec"] - lat) > 0.1  # it was converted
    assert summary["s_region"].startswith("POLYGON ICRS ")
    assert summary["s_fov"] == pytest.approx(100 * math.sqrt(2) * SCALE, rel=1e-4)


def test_cube(tmp_path):
    header = tan_header(CTYPE3="VRAD", CRVAL3=0.0, CDELT3=1000.0, CRPIX3=1.0, CUNIT3="m/s")

    summary = summarize(tmp_path, fits.ImageHDU(np.zeros((8, 100, 100), np.float32), header))

    assert summary["dataproduct_type"] == "cube"
    assert position(summary) == pytest.approx((RA, DEC), abs=1e-9)


def test_table_only_file_holds_measurements(tmp_path):
    primary = fits.PrimaryHDU()
    primary.header.update({"TELESCOP": "GAIA", "OBJCTRA": "00 45 24.96", "OBJCTDEC": "+40 38 51.72"})
    table = fits.BinTableHDU.from_columns([fits.Column("G", "E", unit="mag", array=np.ones(3))])

    summary = summarize(tmp_path, table, primary=primary)

    assert summary["dataproduct_type"] == "measurements"
    assert position(summary) == pytest.approx((RA, DEC), abs=1e-9)
    assert (summary["s_fov"], summary["s_region"], summary["obs_collection"]) == (None, None, "GAIA")


def test_date_obs_with_time_obs_and_exposure_time():
    keywords = {"DATE-OBS": "2004-08-14", "TIME-OBS": "04:29:48.35", "EXPOSURE": 864}

    summary = observation_summary([document(keywords)])

    t_min = Time("2004-08-14T04:29:48.35", scale="utc").mjd
    assert summary["t_min"] == pytest.approx(t_min, abs=1e-9)
    assert summary["t_max"] == pytest.approx(t_min + 0.01, abs=1e-9)
    assert summary["t_exptime"] == 864.0


def test_date_obs_with_its_own_time_and_date_end():
    keywords = {"DATE-OBS": "2020-01-02T03:04:05", "TIME-OBS": "23:59:59", "DATE-END": "2020-01-02T04:04:05"}

    summary = observation_summary([document(keywords)])

    assert summary["t_min"] == pytest.approx(58850 + (3 * 3600 + 4 * 60 + 5) / 86400, abs=1e-9)
    assert summary["t_max"] == pytest.approx(summary["t_min"] + 1 / 24, abs=1e-9)
    assert summary["t_exptime"] is None


@pytest.mark.parametrize(
    ("ra", "dec"),
    [
        ("00:45:24.96", "+40:38:51.72"),
        ("0h45m24.96s", "40d38m51.72s"),
        ("11.354", "40.6477"),
        (11.354, 40.6477),
    ],
)
def test_ra_dec_keywords_in_degrees_or_sexagesimal(ra, dec):
    summary = observation_summary([document({"RA": ra, "DEC": dec})])

    assert position(summary) == pytest.approx((RA, DEC), abs=1e-9)


def test_negative_sexagesimal_declination():
    summary = observation_summary([document({"OBJCTRA": "23:59:59.999", "OBJCTDEC": "-00:30:00"})])

    assert position(summary) == pytest.approx((360 - 0.015 / 3600, -0.5))


def test_primary_header_first_then_extensions_in_order():
    hdus = [
        document({"TELESCOP": "HST", "INSTRUME": "WFC3"}),
        document({"TELESCOP": "JWST", "OBJECT": "NGC 1300", "OBSERVAT": "X"}, type="ImageHDU"),
        document({"OBJECT": "M 31", "ROOTNAME": "idxx01abq", "OBS_ID": "later"}, type="ImageHDU"),
    ]

    summary = observation_summary(hdus)

    assert (summary["obs_collection"], summary["facility_name"]) == ("HST", "HST")
    assert (summary["target_name"], summary["obs_id"]) == ("NGC 1300", "later")
    assert summary["instrument_name"] == "WFC3"  # no DETECTOR to append
    assert summary["dataproduct_type"] is None


def test_odd_values_are_null_and_logged(caplog):
    keywords = {
        "TELESCOP": 1.5, "INSTRUME": True, "OBJECT": {"real": 1.0, "imag": 2.0}, "OBS_ID": "  ",
        "EXPTIME": "long", "EXPOSURE": -5, "TEXPTIME": {"float": "NaN"}, "EXPSTART": {"float": "Infinity"},
        "DATE-OBS": "14.08.2004", "DATE-END": 53000, "RA_TARG": True, "DEC_TARG": 0.0,
        "RA": "25:00:00", "DEC": "+10:00:00", "OBJCTRA": 10.0, "OBJCTDEC": 100.0, "FILTER": None,
    }
    with caplog.at_level(logging.WARNING, logger="handlers.obscore.readers"):
        summary = observation_summary([document(keywords, shape=[0])])

    assert summary == NO_SOURCE
    for fragment in ["TELESCOP=1.5", "EXPTIME='long'", "EXPOSURE=-5", "DATE-OBS='14.08.2004'",
                     "DATE-END=53000", "RA_TARG=True", "RA='25:00:00'", "OBJCTDEC=100.0"]:
        assert fragment in caplog.text


def test_a_bad_value_gives_way_to_the_next_keyword():
    keywords = {"EXPTIME": "n/a", "ITIME": 30, "FILTER1": "CLEAR1L", "FILTER2": "F606W"}

    summary = observation_summary([document(keywords)])

    assert (summary["t_exptime"], summary["filter"]) == (30.0, "F606W")


def test_unparsed_cards_are_ignored():
    hdu = document({})
    hdu["cards"].append({"keyword": "EXPTIME", "value": "1.2.3", "comment": None, "unparsed": True})

    assert observation_summary([hdu])["t_exptime"] is None


def test_wcs_in_an_unknown_frame_falls_back_to_keywords(caplog):
    wcs = {"frame": None, "equinox": None, "ctype": ["HPLN-TAN", "HPLT-TAN"], "centre": [0.1, 0.2],
           "footprint": [[0, 0], [0, 1], [1, 1], [1, 0]], "pixel_scale_arcsec": [1.0, 1.0]}
    image = document({}, type="ImageHDU", shape=[10, 10], wcs=wcs)
    hdus = [document({"RA_TARG": RA, "DEC_TARG": DEC}), image]

    with caplog.at_level(logging.WARNING, logger="handlers.obscore.readers"):
        summary = observation_summary(hdus)

    assert position(summary) == (RA, DEC)
    assert (summary["s_region"], summary["s_fov"]) == (None, None)
    assert "frame None" in caplog.text


def test_pre_1999_fits_dates_are_read_as_the_1900s() -> None:
    """'DD/MM/YY' was the FITS date format before 1999 (astropy's own test data has them)."""
    from handlers.obscore.record import observation_summary

    cards = [{"keyword": "DATE-OBS", "value": "06/01/96", "comment": ""},
             {"keyword": "TIME-OBS", "value": "08:56:00", "comment": ""}]
    summary = observation_summary([{"index": 0, "type": "PrimaryHDU", "cards": cards, "shape": [], "wcs": None}])
    assert summary["t_min"] == pytest.approx(50088.37222, abs=1e-5)  # 1996-01-06T08:56:00 UTC
