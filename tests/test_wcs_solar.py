"""Solar images' WCS (fits/wcs.py) against sunpy's own frames, which the Lambda does not use.

Headers are built from the missions' documented keywords (AIA and HMI level 1.5: SDO's JSOC
series descriptions; SECCHI: the STEREO SECCHI FITS header document); sunpy reads them through
``astropy.wcs.utils.wcs_to_celestial_frame``, where it registers its frames.
"""

from __future__ import annotations

import math
from typing import Any

import astropy.units as u
import numpy as np
import pytest
import sunpy.coordinates  # noqa: F401  (registers sunpy's frames with astropy.wcs)
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.wcs import WCS
from astropy.wcs.utils import pixel_to_skycoord, wcs_to_celestial_frame
from sunpy.coordinates import HeliographicCarrington, HeliographicStonyhurst

from handlers.fits.wcs import celestial_wcs
from handlers.obscore.record import observation_summary

AIA_DATE = "2011-06-07T06:33:02.88"


def aia_header(**changes: Any) -> fits.Header:
    """AIA 171 A, level 1.5, binned to 64 x 64 (4096 pixels of 0.6" each: 38.4")."""
    cards = {
        "NAXIS": 2, "NAXIS1": 64, "NAXIS2": 64, "TELESCOP": "SDO/AIA", "INSTRUME": "AIA_3", "WAVELNTH": 171,
        "CTYPE1": "HPLN-TAN", "CTYPE2": "HPLT-TAN", "CUNIT1": "arcsec", "CUNIT2": "arcsec",
        "CRVAL1": 0.0, "CRVAL2": 0.0, "CDELT1": 38.4, "CDELT2": 38.4, "CRPIX1": 32.5, "CRPIX2": 32.5,
        "CROTA2": 0.0, "DATE-OBS": AIA_DATE, "T_OBS": "2011-06-07T06:33:03.88Z",
        "DSUN_OBS": 1.515e11, "HGLN_OBS": 0.0, "HGLT_OBS": 0.0484, "CRLN_OBS": 325.1, "CRLT_OBS": 0.0484,
        "RSUN_REF": 696000000.0, "RSUN_OBS": 946.9,
    }
    cards.update(changes)
    return fits.Header({key: value for key, value in cards.items() if value is not None})


def hmi_header() -> fits.Header:
    """HMI level 1.5 continuum: rotated by 180 degrees (CROTA2), 0.504" pixels, binned by 64."""
    return aia_header(TELESCOP="SDO/HMI", INSTRUME="HMI_FRONT2", WAVELNTH=6173.0, CDELT1=32.256, CDELT2=32.256,
                      CROTA2=179.93, CRVAL1=-1.2, CRVAL2=0.4, HGLT_OBS=-1.1, CRLT_OBS=-1.1, RSUN_REF=696000000.0)


def secchi_header() -> fits.Header:
    """STEREO-A EUVI 195 A: far from the Sun-Earth line (HGLN_OBS), with DATE-AVG beside DATE-OBS."""
    return aia_header(TELESCOP="STEREO", INSTRUME="SECCHI", DETECTOR="EUVI", WAVELNTH=195,
                      CDELT1=50.4, CDELT2=50.4, CRPIX1=31.9, CRPIX2=33.2, CROTA2=None, PC1_1=0.99996,
                      PC1_2=-0.0087, PC2_1=0.0087, PC2_2=0.99996, DATE_OBS=None,
                      **{"DATE-OBS": "2012-07-12T16:24:30.006", "DATE-AVG": "2012-07-12T16:24:45.006"},
                      DSUN_OBS=1.4346e11, HGLN_OBS=117.9, HGLT_OBS=-3.2, CRLN_OBS=190.5, CRLT_OBS=-3.2,
                      RSUN_REF=None)


def sunpy_point(header: fits.Header, x: float, y: float) -> SkyCoord:
    """The world coordinate of pixel (x, y) (0-based) in sunpy's frame of the header."""
    return pixel_to_skycoord(x, y, WCS(header), origin=0)


@pytest.mark.parametrize("header", [aia_header(), hmi_header(), secchi_header()], ids=["aia", "hmi", "secchi"])
def test_helioprojective_corners_are_sunpys_wrapped_at_180(header):
    wcs = celestial_wcs(header, (64, 64))

    assert wcs is not None and wcs["frame"] == wcs_to_celestial_frame(WCS(header)).name == "helioprojective"
    # calc_footprint's order: the outer edges of pixels (0, 0), (0, N), (N, N), (N, 0).
    edges = [(-0.5, -0.5), (-0.5, 63.5), (63.5, 63.5), (63.5, -0.5)]
    for (x, y), (tx, ty) in zip(edges, wcs["footprint"], strict=True):
        expected = sunpy_point(header, x, y)
        assert (tx, ty) == pytest.approx((expected.Tx.to_value(u.deg), expected.Ty.to_value(u.deg)), abs=1e-9)
    assert all(-180 <= tx < 180 for tx, _ in wcs["footprint"])


def test_aia_footprint_by_hand():
    """A gnomonic projection about (0, 0): Tx = atan(x), Ty = atan(y / sqrt(1 + x^2)), x and y in radians."""
    wcs = celestial_wcs(aia_header(), (64, 64))

    half = math.radians(32 * 38.4 / 3600)  # 32 pixels from the centre to each edge
    tx, ty = math.degrees(math.atan(half)), math.degrees(math.atan(half / math.sqrt(1 + half**2)))
    assert wcs is not None
    np.testing.assert_allclose(wcs["footprint"], [[-tx, -ty], [-tx, ty], [tx, ty], [tx, -ty]], rtol=0, atol=1e-12)
    assert wcs["footprint"][0][0] == pytest.approx(-0.3413, abs=1e-4)  # not 359.6587
    assert wcs["centre"] == [0.0, 0.0]


def test_the_observer_is_recorded_as_sunpy_reads_it():
    header = secchi_header()
    wcs = celestial_wcs(header, (64, 64))

    frame = wcs_to_celestial_frame(WCS(header))
    observer = frame.observer
    assert wcs is not None and wcs["observer"] == {
        "obstime": "2012-07-12T16:24:45.006",  # DATE-AVG, before DATE-OBS
        "dsun_obs": 1.4346e11, "hgln_obs": 117.9, "hglt_obs": -3.2, "crln_obs": 190.5, "rsun_ref": None,
    }
    assert (observer.lon.to_value(u.deg), observer.lat.to_value(u.deg), observer.radius.to_value(u.m)) == (
        pytest.approx(117.9), pytest.approx(-3.2), pytest.approx(1.4346e11))
    assert frame.obstime.isot == "2012-07-12T16:24:45.006"


def test_the_document_rebuilds_sunpys_frame():
    """A point of the document, in the frame it names with the observer it records, is where sunpy
    puts the same pixel on the Sun: the transformation to heliographic longitude depends on all of it."""
    header = secchi_header()
    wcs = celestial_wcs(header, (64, 64))
    assert wcs is not None and wcs["observer"] is not None
    seen = wcs["observer"]
    observer = HeliographicStonyhurst(seen["hgln_obs"] * u.deg, seen["hglt_obs"] * u.deg, seen["dsun_obs"] * u.m,
                                      obstime=seen["obstime"])
    lon, lat = wcs["centre"]
    ours = SkyCoord(lon * u.deg, lat * u.deg, frame=wcs["frame"], obstime=seen["obstime"], observer=observer)

    theirs = sunpy_point(header, 31.5, 31.5)
    on_the_sun = [point.transform_to(HeliographicStonyhurst(obstime=seen["obstime"])) for point in (ours, theirs)]
    assert np.isfinite(on_the_sun[1].lon.degree)  # the centre is on the disc
    assert on_the_sun[0].lon.degree == pytest.approx(on_the_sun[1].lon.degree, abs=1e-7)
    assert on_the_sun[0].lat.degree == pytest.approx(on_the_sun[1].lat.degree, abs=1e-7)


def test_crlt_obs_stands_for_hglt_obs_and_mjd_obs_for_the_date():
    header = aia_header(HGLN_OBS=None, HGLT_OBS=None, RSUN_REF=None, **{"DATE-OBS": None, "MJD-OBS": 55719.5})
    wcs = celestial_wcs(header, (64, 64))

    assert wcs is not None and wcs["observer"] == {
        "obstime": "2011-06-07T12:00:00", "dsun_obs": 1.515e11, "hgln_obs": None, "hglt_obs": 0.0484,
        "crln_obs": 325.1, "rsun_ref": None,
    }
    observer = wcs_to_celestial_frame(WCS(header)).observer  # sunpy builds it from CRLN_OBS, CRLT_OBS, DSUN_OBS
    carrington = observer.transform_to(HeliographicCarrington(observer="self", obstime=observer.obstime))
    assert (carrington.lon.degree, carrington.lat.degree) == (pytest.approx(325.1), pytest.approx(0.0484))


@pytest.mark.parametrize(
    ("ctype", "frame", "crval", "wrap_angle"),
    [
        ("HGLN", "heliographic_stonyhurst", 0.0, 180.0),  # Stonyhurst wraps at 180
        ("CRLN", "heliographic_carrington", 0.0, 360.0),  # Carrington at 360, as in sunpy
        ("CRLN", "heliographic_carrington", 200.0, 360.0),
        ("HGLN", "heliographic_stonyhurst", 170.0, 180.0),
    ],
)
def test_heliographic_maps_are_named_and_wrapped_as_sunpy_does(ctype, frame, crval, wrap_angle):
    """A CAR map of 60 x 40 one-degree pixels about (crval, 0): wide, so its outline is traced along
    its edges, every 60/36 degrees of longitude (fits.coverage.OUTLINE_SAMPLES)."""
    header = fits.Header({
        "NAXIS": 2, "NAXIS1": 60, "NAXIS2": 40, "CTYPE1": f"{ctype}-CAR", "CTYPE2": f"{ctype[:2]}LT-CAR",
        "CUNIT1": "deg", "CUNIT2": "deg", "CDELT1": 1.0, "CDELT2": 1.0, "CRPIX1": 30.5, "CRPIX2": 20.5,
        "CRVAL1": crval, "CRVAL2": 0.0, "DATE-OBS": AIA_DATE, "DSUN_OBS": 1.515e11, "HGLN_OBS": 0.0,
        "HGLT_OBS": 0.0484, "CRLN_OBS": 325.1,
    })
    wcs = celestial_wcs(header, (40, 60))

    assert wcs is not None and wcs["frame"] == frame == wcs_to_celestial_frame(WCS(header)).name
    expected = sorted({(crval + offset - wrap_angle) % 360 + wrap_angle - 360 for offset in np.linspace(-30, 30, 37)})
    assert sorted({lon for lon, _ in wcs["footprint"]}) == pytest.approx(expected, abs=1e-9)
    assert {lat for _, lat in wcs["footprint"]} >= {-20.0, 20.0}
    theirs = sunpy_point(header, -0.5, -0.5)
    assert wcs["footprint"][0] == pytest.approx([theirs.lon.degree, theirs.lat.degree], abs=1e-9)


def test_a_helioprojective_image_has_no_sky_position_but_its_field_of_view():
    path_cards = aia_header()
    document = {"index": 0, "type": "PrimaryHDU", "shape": [64, 64], "wcs": celestial_wcs(path_cards, (64, 64)),
                "cards": [{"keyword": key, "value": value, "comment": ""} for key, value in path_cards.items()]}
    notes: list[str] = []

    summary = observation_summary([document], notes)

    half_diagonal = math.degrees(math.atan(math.radians(32 * 38.4 / 3600) * math.sqrt(2)))  # TAN: radius = atan(r)
    assert (summary["s_ra"], summary["s_dec"], summary["s_region"]) == (None, None, None)
    assert summary["s_fov"] == pytest.approx(2 * half_diagonal, rel=1e-9)
    assert (summary["s_xel1"], summary["s_xel2"]) == (64, 64)
    assert notes == []  # nothing was wrong: the Sun's frames are no sky position


def test_a_heliographic_map_has_no_field_of_view_on_the_sky():
    header = fits.Header({"NAXIS": 2, "NAXIS1": 360, "NAXIS2": 180, "CTYPE1": "CRLN-CAR", "CTYPE2": "CRLT-CAR",
                          "CDELT1": 1.0, "CDELT2": 1.0, "CRPIX1": 180.5, "CRPIX2": 90.5, "CRVAL1": 180.0,
                          "CRVAL2": 0.0, "DATE-OBS": AIA_DATE})
    wcs = celestial_wcs(header, (180, 360))
    document = {"index": 0, "type": "PrimaryHDU", "shape": [180, 360], "wcs": wcs, "cards": []}

    summary = observation_summary([document])

    assert wcs is not None and wcs["all_sky"] and wcs["frame"] == "heliographic_carrington"  # the whole Sun
    assert (summary["s_ra"], summary["s_fov"], summary["s_region"]) == (None, None, None)


def test_sohos_solar_x_and_solar_y_are_helioprojective():
    """EIT and MDI wrote CTYPE1 = 'Solar-X', CTYPE2 = 'Solar-Y', which sunpy.map reads as HPLN-TAN, HPLT-TAN."""
    legacy = aia_header(CTYPE1="Solar-X", CTYPE2="solar_y", TELESCOP="SOHO", INSTRUME="EIT")

    with pytest.warns(UserWarning, match=r"CTYPE1 = 'Solar-X', CTYPE2 = 'solar_y' read as HPLN-TAN and HPLT-TAN"):
        wcs = celestial_wcs(legacy, (64, 64))

    expected = celestial_wcs(aia_header(), (64, 64))
    assert wcs is not None and expected is not None
    assert (wcs["frame"], wcs["ctype"], wcs["footprint"]) == ("helioprojective", ["HPLN-TAN", "HPLT-TAN"],
                                                              expected["footprint"])
