"""Maps of the whole sky and of much of it (fits/coverage.py): where astropy's corners are off the sky."""

from __future__ import annotations

import math

import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.wcs import WCS

from handlers.fits.coverage import OUTLINE_SAMPLES
from handlers.fits.wcs import celestial_wcs
from handlers.obscore.record import observation_summary


def map_header(projection: str, naxis1: int, naxis2: int, crpix2: float | None = None, **changes: float) -> fits.Header:
    """A Galactic map of one-degree pixels centred on (l, b) = (0, 0), east to the left."""
    cards = {"NAXIS": 2, "NAXIS1": naxis1, "NAXIS2": naxis2, "CTYPE1": f"GLON-{projection}",
             "CTYPE2": f"GLAT-{projection}", "CDELT1": -1.0, "CDELT2": 1.0, "CRPIX1": (naxis1 + 1) / 2,
             "CRPIX2": (naxis2 + 1) / 2 if crpix2 is None else crpix2, "CRVAL1": 0.0, "CRVAL2": 0.0}
    return fits.Header({**cards, **changes})


def summary_of(header: fits.Header, notes: list[str] | None = None) -> dict:
    shape = [header["NAXIS2"], header["NAXIS1"]]
    document = {"index": 0, "type": "PrimaryHDU", "shape": shape, "wcs": celestial_wcs(header, shape), "cards": []}
    return dict(observation_summary([document], notes))


GALACTIC_CENTRE = SkyCoord(0, 0, unit="deg", frame="galactic").icrs


@pytest.mark.parametrize(
    "header",
    [
        # Pixel centres on whole degrees from -180 to 180 and -90 to 90: the outer edges are past the poles.
        map_header("CAR", 361, 181),
        map_header("AIT", 360, 180),  # the ellipse in a rectangle: its corners are off the sky
        map_header("MOL", 360, 180),
        map_header("HPX", 360, 180),  # HEALPix's projection: the gaps between its polar triangles are off the sky
    ],
    ids=["CAR", "AIT", "MOL", "HPX"],
)
def test_a_map_of_the_whole_sky_holds_it(header):
    assert np.isnan(WCS(header).calc_footprint(center=False)).any()  # why the WCS used to be null

    wcs = celestial_wcs(header, [header["NAXIS2"], header["NAXIS1"]])
    summary = summary_of(header)

    assert wcs is not None and (wcs["all_sky"], wcs["footprint"], wcs["centre"]) == (True, [], [0.0, 0.0])
    assert wcs["pixels"] == [header["NAXIS1"], header["NAXIS2"]]
    assert (summary["s_ra"], summary["s_dec"]) == pytest.approx((GALACTIC_CENTRE.ra.degree, GALACTIC_CENTRE.dec.degree))
    assert summary["s_fov"] == 360.0
    assert summary["s_region"] == f"CIRCLE ICRS {GALACTIC_CENTRE.ra.degree:.7f} {GALACTIC_CENTRE.dec.degree:.7f} 180.0"
    assert (summary["s_xel1"], summary["s_xel2"]) == (header["NAXIS1"], header["NAXIS2"])


def test_a_map_with_a_gap_is_not_the_whole_sky():
    header = map_header("CAR", 350, 180)  # 10 degrees of longitude missing

    wcs = celestial_wcs(header, [180, 350])

    assert wcs is not None and not wcs["all_sky"] and wcs["footprint"]


def test_a_wide_map_is_outlined_along_its_edges():
    """120 x 20 half-degree pixels of the Galactic plane, 0 < l < 60, |b| < 5: its edges are meridians and
    parallels, traced every 60/36 degrees of l and 10/36 of b, in calc_footprint's order."""
    header = map_header("CAR", 120, 20, CDELT1=-0.5, CDELT2=0.5, CRVAL1=30.0)

    wcs = celestial_wcs(header, [20, 120])

    lons, lats = np.linspace(60, 0, OUTLINE_SAMPLES + 1), np.linspace(-5, 5, OUTLINE_SAMPLES + 1)
    expected = ([(60.0, b) for b in lats] + [(lon, 5.0) for lon in lons[1:]] + [(0.0, b) for b in lats[::-1][1:]]
                + [(lon, -5.0) for lon in lons[::-1][1:-1]])
    assert wcs is not None and not wcs["all_sky"]
    np.testing.assert_allclose(wcs["footprint"], expected, rtol=0, atol=1e-9)

    summary = summary_of(header)
    icrs = SkyCoord(np.array(expected), unit="deg", frame="galactic").icrs
    words = summary["s_region"].split()
    assert words[:2] == ["POLYGON", "ICRS"]
    np.testing.assert_allclose(np.array(words[2:], float).reshape(-1, 2),
                               np.column_stack([icrs.ra.degree, icrs.dec.degree]), rtol=0, atol=1e-7)
    # The circle about (30, 0) through the farthest vertices, (0, +-5) and (60, +-5).
    radius = math.acos(math.cos(math.radians(5)) * math.cos(math.radians(30)))
    assert summary["s_fov"] == pytest.approx(2 * math.degrees(radius))


def test_the_northern_half_of_an_aitoff_map_is_outlined_along_its_pixels_on_the_sky():
    """Its four corners are off the sky (calc_footprint: NaN); along its bottom edge b = 0 and, by the
    inverse Hammer-Aitoff projection (Calabretta & Greisen 2002, eq. 109), l = 2 atan2(z x / 2, 2 z^2 - 1)
    with z = sqrt(1 - (x / 4)^2), x in radians of the projection plane."""
    header = map_header("AIT", 360, 90, crpix2=0.5)
    assert np.isnan(WCS(header).calc_footprint(center=False)).all()

    wcs = celestial_wcs(header, [90, 360])

    assert wcs is not None and not wcs["all_sky"]
    footprint = np.array(wcs["footprint"])
    assert footprint[:, 1].min() == 0.0 and footprint[:, 1].max() > 80
    on_the_equator = footprint[footprint[:, 1] == 0.0]
    x = np.radians(180 - np.linspace(0, 360, OUTLINE_SAMPLES + 1))  # plane x of the bottom edge's samples
    z = np.sqrt(1 - (x / 4) ** 2)
    inside = np.abs(x) <= 2 * math.sqrt(2)  # the ellipse's equator
    expected = np.degrees(2 * np.arctan2(z[inside] * x[inside] / 2, 2 * z[inside] ** 2 - 1)) % 360
    assert sorted(on_the_equator[:, 0]) == pytest.approx(sorted(expected), abs=1e-9)
    assert summary_of(header)["s_region"].startswith("POLYGON ICRS ")


def test_a_band_round_the_sky_has_no_polygon():
    header = map_header("CAR", 360, 60)  # every longitude, |b| < 30
    notes: list[str] = []

    summary = summary_of(header, notes)

    assert celestial_wcs(header, [60, 360]) is not None
    assert (summary["s_ra"], summary["s_dec"]) == pytest.approx((GALACTIC_CENTRE.ra.degree, GALACTIC_CENTRE.dec.degree))
    assert (summary["s_fov"], summary["s_region"]) == (None, None)
    assert any("spans every longitude" in note for note in notes)


def test_an_image_with_no_pixel_on_the_sky_has_no_wcs():
    header = map_header("AIT", 10, 10, CRPIX1=-500.0)  # 500 degrees off the centre of the plane

    assert celestial_wcs(header, [10, 10]) is None


def healpix_file(tmp_path, **cards: object) -> list:
    """A HEALPix map as Planck and WMAP write one: a table of 12 NSIDE^2 pixels, no WCS."""
    nside = 2
    table = fits.BinTableHDU.from_columns([fits.Column("TEMPERATURE", "E", array=np.arange(12 * nside**2))])
    table.header.update({"PIXTYPE": "HEALPIX", "ORDERING": "RING", "NSIDE": nside, "FIRSTPIX": 0,
                         "LASTPIX": 12 * nside**2 - 1, "INDXSCHM": "IMPLICIT", "COORDSYS": "G", **cards})
    for key in [key for key, value in cards.items() if value is None]:
        del table.header[key]
    path = tmp_path / "map.fits"
    fits.HDUList([fits.PrimaryHDU(), table]).writeto(path)
    from handlers.fits.hdu import describe_hdu

    with fits.open(path) as hdul:
        return [describe_hdu(index, hdu) for index, hdu in enumerate(hdul)]


@pytest.mark.parametrize("cards", [{"OBJECT": "FULLSKY"}, {}], ids=["FULLSKY", "every-pixel"])
def test_a_healpix_map_of_the_whole_sky(tmp_path, cards):
    summary = observation_summary(healpix_file(tmp_path, **cards))

    assert (summary["s_ra"], summary["s_dec"]) == pytest.approx((GALACTIC_CENTRE.ra.degree, GALACTIC_CENTRE.dec.degree))
    assert (summary["s_fov"], summary["s_region"].split()[:2], summary["s_region"].split()[-1]) == (
        360.0, ["CIRCLE", "ICRS"], "180.0")


@pytest.mark.parametrize(
    "cards",
    [{"LASTPIX": 40}, {"INDXSCHM": "EXPLICIT", "OBJECT": "PARTIAL"}, {"OBJECT": "FULLSKY", "COORDSYS": None}],
    ids=["missing-pixels", "partial", "no-coordsys"],
)
def test_a_healpix_map_of_part_of_the_sky_says_nothing_of_its_coverage(tmp_path, cards):
    """Which pixels a partial map holds is in its data, which the header alone does not say."""
    summary = observation_summary(healpix_file(tmp_path, **cards))

    assert (summary["s_ra"], summary["s_fov"], summary["s_region"]) == (None, None, None)


def test_a_map_whose_central_pixel_is_off_the_sky_is_centred_on_its_nearest_sample_on_the_sky():
    """100 one-degree pixels either side of the Aitoff plane's x = -170 (the ellipse ends at -2 sqrt 2 rad =
    -162.07 deg): the central pixel is off the sky, the nearest sample on it is on the equator, near l = 180."""
    header = map_header("AIT", 100, 100, CRPIX1=50.5 - 170.0)
    assert not np.isfinite(WCS(header).all_pix2world([[49.5, 49.5]], 0)).any()

    wcs = celestial_wcs(header, [100, 100])

    assert wcs is not None and not wcs["all_sky"]
    lon, lat = wcs["centre"]
    assert lat == pytest.approx(0.0, abs=1e-9) and abs(lon - 180) < 30
    assert all(np.isfinite(wcs["footprint"]).ravel())
