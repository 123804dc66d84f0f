"""obscore/sky.py: positions from target keywords, the spatial resolution and the pixels of the celestial axes."""

from __future__ import annotations

from typing import Any

import pytest
from astropy.io import fits

from handlers.fits.wcs import celestial_wcs
from handlers.obscore.record import observation_summary
from handlers.obscore.sky import TARGET_KEYWORDS


def header_document(keywords: dict[str, Any], **fields: Any) -> dict:
    cards = [{"keyword": key, "value": value, "comment": ""} for key, value in keywords.items()]
    return {"index": 0, "type": "PrimaryHDU", "shape": [], "wcs": None, **fields, "cards": cards}


def summary_of(keywords: dict[str, Any], notes: list[str] | None = None, **fields: Any) -> dict:
    return dict(observation_summary([header_document(keywords, **fields)], notes))


@pytest.mark.parametrize(("ra_keyword", "dec_keyword"), TARGET_KEYWORDS)
def test_each_position_keyword_is_read(ra_keyword, dec_keyword):
    summary = summary_of({ra_keyword: 201.365, dec_keyword: -43.019})

    assert (summary["s_ra"], summary["s_dec"]) == (201.365, -43.019)
    assert (summary["s_fov"], summary["s_region"]) == (None, None)  # a position is no coverage


def test_chandra_like_event_file_prefers_the_mean_pointing():
    """Chandra's event files give the target, the nominal and the mean pointing (the field's centre)."""
    summary = summary_of({"RA_TARG": 83.633, "DEC_TARG": 22.0145, "RA_NOM": 83.6354, "DEC_NOM": 22.0173,
                          "RA_PNT": 83.6361, "DEC_PNT": 22.0168})

    assert (summary["s_ra"], summary["s_dec"]) == (83.6361, 22.0168)


def test_xmm_like_ra_obj_is_preferred_to_the_telescopes_ra():
    summary = summary_of({"RA": 10.5, "DEC": 41.1, "RA_OBJ": 10.6847929, "DEC_OBJ": 41.2690650})

    assert (summary["s_ra"], summary["s_dec"]) == (10.6847929, 41.2690650)


def test_noirlab_like_sexagesimal_objra():
    summary = summary_of({"OBJRA": "13:29:52.7", "OBJDEC": "+47:11:43"})

    ra = (13 + 29 / 60 + 52.7 / 3600) * 15
    dec = 47 + 11 / 60 + 43 / 3600
    assert (summary["s_ra"], summary["s_dec"]) == (pytest.approx(ra, abs=1e-9), pytest.approx(dec, abs=1e-9))


def test_an_unusable_pointing_gives_way_to_the_target():
    notes: list[str] = []

    summary = summary_of({"RA_PNT": "INDEF", "DEC_PNT": "INDEF", "RA_OBJ": 10.68, "DEC_OBJ": 41.27}, notes)

    assert (summary["s_ra"], summary["s_dec"]) == (10.68, 41.27)
    assert any("RA_PNT='INDEF'" in note for note in notes)


@pytest.mark.parametrize(
    ("keywords", "arcsec"),
    [
        ({"BMAJ": 0.0015, "BMIN": 0.001}, 5.4),  # a radio beam's major axis, in degrees
        ({"PSF_FWHM": 0.83}, 0.83),  # ESO Phase 3 images, arcsec
        ({"SKY_RES": 1.2}, 1.2),  # ESO Phase 3 cubes and spectra, arcsec
        ({"BMAJ": 0.0015, "PSF_FWHM": 0.83}, 5.4),
        ({"SEEING": 2.1}, None),  # arcsec at some observatories, pixels at others (UKIDSS)
        ({}, None),
    ],
)
def test_spatial_resolution_from_stated_keywords_only(keywords, arcsec):
    assert summary_of(keywords)["s_resolution"] == (None if arcsec is None else pytest.approx(arcsec, rel=1e-12))


def test_a_zero_beam_is_no_resolution():
    notes: list[str] = []

    assert summary_of({"BMAJ": 0.0, "PSF_FWHM": 0.9}, notes)["s_resolution"] == 0.9
    assert any("BMAJ=0" in note for note in notes)


@pytest.mark.parametrize(
    ("cards", "shape", "pixels"),
    [
        ({"CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN"}, [40, 30], [30, 40]),
        ({"CTYPE1": "DEC--TAN", "CTYPE2": "RA---TAN"}, [40, 30], [30, 40]),  # FITS axis order, not (lon, lat)
        # A cube whose first axis is spectral: the celestial axes are NAXIS2 and NAXIS3.
        ({"CTYPE1": "WAVE", "CTYPE2": "RA---TAN", "CTYPE3": "DEC--TAN", "CRVAL1": 5e-7, "CDELT1": 1e-10,
          "CRPIX1": 1.0, "CUNIT1": "m"}, [40, 30, 5], [30, 40]),
    ],
)
def test_s_xel_counts_the_pixels_of_the_celestial_axes(cards, shape, pixels):
    naxis = len(shape)
    celestial = [n for n in range(1, naxis + 1) if cards[f"CTYPE{n}"] != "WAVE"]
    header = fits.Header({"NAXIS": naxis, **{f"NAXIS{n}": shape[naxis - n] for n in range(1, naxis + 1)}, **cards,
                          **{f"CRVAL{n}": 10.0 for n in celestial}, **{f"CDELT{n}": 1e-4 for n in celestial},
                          **{f"CRPIX{n}": 10.0 for n in celestial}})
    wcs = celestial_wcs(header, shape)

    summary = observation_summary([header_document({}, shape=shape, wcs=wcs)])

    assert wcs is not None and wcs["pixels"] == pixels
    assert (summary["s_xel1"], summary["s_xel2"]) == tuple(pixels)


def test_no_celestial_wcs_no_pixels():
    summary = summary_of({"NAXIS": 2, "NAXIS1": 10, "NAXIS2": 10}, shape=[10, 10])

    assert (summary["s_xel1"], summary["s_xel2"]) == (None, None)


def test_a_header_position_in_fk4_b1950_is_converted_to_icrs() -> None:
    """RA/DEC with EQUINOX = 1950 and no RADESYS are FK4 (FITS WCS paper II): M31's B1950 position is its ICRS one."""
    from astropy.coordinates import FK4, SkyCoord
    from astropy.time import Time

    summary = observation_summary([header_document({"RA": "00:40:00", "DEC": "+41:00:00", "EQUINOX": 1950.0})])

    expected = SkyCoord(10.0, 41.0, unit="deg", frame=FK4(equinox=Time(1950.0, format="byear"))).icrs
    assert (summary["s_ra"], summary["s_dec"]) == pytest.approx((expected.ra.degree, expected.dec.degree), abs=1e-9)
    assert abs(summary["s_ra"] - 10.0) > 0.5  # half a century of precession, not the position as written


def test_a_header_position_in_an_absurd_equinox_is_refused_with_a_warning() -> None:
    notes: list[str] = []
    summary = observation_summary([header_document({"RA": 10.0, "DEC": 41.0, "RADESYS": "FK5", "EQUINOX": 1e20})],
                                  notes)

    assert (summary["s_ra"], summary["s_dec"]) == (None, None)
    assert any("the equinox 1e+20 is no year from 1000 to 3000" in note for note in notes), notes
