"""The summary's time fields: t_min/t_max as MJD in UTC from every usual spelling, date form and
time scale; t_exptime by its preference; t_resolution and t_xel; a refused value named in warnings.

Expected values are worked out here from the header: an MJD from the calendar (MJD 51544 is
2000-01-01), a scale's offset from the leap seconds in force (IERS Bulletin C: TAI - UTC was
36 s from 2015-07-01 and is 37 s from 2017-01-01; TT = TAI + 32.184 s; GPS = TAI - 19 s).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from astropy.io import fits
from astropy.utils.data import get_pkg_data_filename

from handlers.fits.hdu import describe_hdu
from handlers.obscore.record import observation_summary

DAY = 86400.0
TT_MINUS_TAI = 32.184
#: MJD of 2020-01-02: 2000-01-01 + 20 years of 365 days + 5 leap days (2000, 2004, ..., 2016) + 1 day.
MJD_2020_01_02 = 51544 + 20 * 365 + 5 + 1
#: 03:04:05 as a fraction of a day.
CLOCK = (3 * 3600 + 4 * 60 + 5) / DAY
#: TAI - UTC in 2020 (and since 2017-01-01).
TAI_MINUS_UTC_2020 = 37.0


def hdu(*cards: tuple[Any, ...], **fields: Any) -> dict[str, Any]:
    """A describe_hdu-like document of these (keyword, value[, comment]) cards."""
    as_cards = [{"keyword": card[0], "value": card[1], "comment": card[2] if len(card) > 2 else ""} for card in cards]
    return {"type": "PrimaryHDU", "shape": [], "wcs": None, **fields, "cards": as_cards}


def summary_of(*hdus: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    notes: list[str] = []
    return dict(observation_summary(list(hdus), notes)), notes  # type: ignore[arg-type]


def summary_of_file(path: Path) -> tuple[dict[str, Any], list[str]]:
    """The summary of a FITS file as the pipeline describes it (headers only, lazily)."""
    with fits.open(path) as hdul:
        return summary_of(*(describe_hdu(index, one) for index, one in enumerate(hdul)))  # type: ignore[arg-type]


def test_chandra_event_list_in_tt_with_exposure_and_frame_time():
    """astropy's chandra_time.fits: TIMESYS = 'TT', TSTART/TSTOP in s from MJDREF = 50814;
    EXPTIME = 3.1 s is the frame time, EXPOSURE = LIVETIME = 4998.98 s the exposure."""
    path = get_pkg_data_filename("data/chandra_time.fits", package="astropy.io.fits.tests")
    header = fits.getheader(path, 1)
    assert (header["TIMESYS"], header["MJDREF"], header["EXPTIME"]) == ("TT", 50814.0, 3.1)
    tt_minus_utc = TT_MINUS_TAI + 36  # January 2016

    summary, notes = summary_of_file(Path(path))

    assert summary["t_min"] == pytest.approx(50814 + (header["TSTART"] - tt_minus_utc) / DAY, abs=1e-9)
    assert summary["t_max"] == pytest.approx(50814 + (header["TSTOP"] - tt_minus_utc) / DAY, abs=1e-9)
    assert summary["t_exptime"] == header["EXPOSURE"] == header["LIVETIME"] == pytest.approx(4998.98, abs=0.01)
    assert summary["t_resolution"] == header["TIMEDEL"] == 3.14104
    assert summary["t_xel"] is None  # events are not time bins
    assert notes == []


def test_chandra_dates_without_tstart_are_tt_too():
    """DATE-OBS = '2016-01-26T17:58:29' in TT; 2016-01-26 is MJD 51544 + 16 * 365 + 4 + 25."""
    events = hdu(("EXTNAME", "EVENTS"), ("DATE-OBS", "2016-01-26T17:58:29", "Observation start date"),
                 ("DATE-END", "2016-01-26T19:45:57"), ("TIMESYS", "TT", "Time system"), type="BinTableHDU")

    summary, notes = summary_of(hdu(), events)

    day = 51544 + 16 * 365 + 4 + 25
    tt_minus_utc = TT_MINUS_TAI + 36
    assert summary["t_min"] == pytest.approx(day + (17 * 3600 + 58 * 60 + 29 - tt_minus_utc) / DAY, abs=1e-9)
    assert summary["t_max"] == pytest.approx(day + (19 * 3600 + 45 * 60 + 57 - tt_minus_utc) / DAY, abs=1e-9)
    assert notes == []


@pytest.mark.parametrize(
    ("timesys", "scale_minus_utc", "tolerance"),
    [
        ("UTC", 0.0, 1e-6),
        ("TT", TT_MINUS_TAI + TAI_MINUS_UTC_2020, 1e-6),
        ("TAI", TAI_MINUS_UTC_2020, 1e-6),
        ("GPS", TAI_MINUS_UTC_2020 - 19, 1e-6),
        ("TDB", TT_MINUS_TAI + TAI_MINUS_UTC_2020, 2e-3),  # TDB - TT is periodic, under 1.7 ms
        ("TDT", TT_MINUS_TAI + TAI_MINUS_UTC_2020, 1e-6),  # TT's old name
    ],
)
def test_time_scales_are_converted_to_utc(timesys, scale_minus_utc, tolerance):
    summary, notes = summary_of(hdu(("DATE-OBS", "2020-01-02T03:04:05"), ("MJD-END", MJD_2020_01_02 + 0.5),
                                    ("TIMESYS", timesys)))

    assert summary["t_min"] == pytest.approx(MJD_2020_01_02 + CLOCK - scale_minus_utc / DAY, abs=tolerance / DAY)
    assert summary["t_max"] == pytest.approx(MJD_2020_01_02 + 0.5 - scale_minus_utc / DAY, abs=tolerance / DAY)
    assert notes == []


def test_the_scale_is_the_one_of_the_hdu_that_gives_the_keyword():
    """The extension's own TIMESYS, else the primary's, else UTC; a card's comment naming a
    scale wins, and so does ISO 8601's Z (UTC) at the end of a date."""
    tt = (TT_MINUS_TAI + TAI_MINUS_UTC_2020) / DAY
    at_clock = MJD_2020_01_02 + CLOCK

    own, _ = summary_of(hdu(("TIMESYS", "UTC")), hdu(("TIMESYS", "TT"), ("DATE-OBS", "2020-01-02T03:04:05")))
    inherited, _ = summary_of(hdu(("TIMESYS", "TT")), hdu(("DATE-OBS", "2020-01-02T03:04:05")))
    default, _ = summary_of(hdu(), hdu(("DATE-OBS", "2020-01-02T03:04:05")))
    commented, _ = summary_of(hdu(("TIMESYS", "TT"), ("DATE-OBS", "2020-01-02T03:04:05", "UTC of the first frame")))
    zulu, _ = summary_of(hdu(("TIMESYS", "TT"), ("DATE-OBS", "2020-01-02T03:04:05Z")))

    assert own["t_min"] == pytest.approx(at_clock - tt, abs=1e-11)
    assert inherited["t_min"] == pytest.approx(at_clock - tt, abs=1e-11)
    assert default["t_min"] == pytest.approx(at_clock, abs=1e-11)
    assert commented["t_min"] == pytest.approx(at_clock, abs=1e-11)
    assert zulu["t_min"] == pytest.approx(at_clock, abs=1e-11)


@pytest.mark.parametrize("timesys", ["OBT", "LOCAL", "UT1", 7])
def test_a_scale_with_no_conversion_to_utc_is_refused_by_name(timesys):
    summary, notes = summary_of(hdu(("DATE-OBS", "2020-01-02T03:04:05"), ("TIMESYS", timesys)))

    assert summary["t_min"] is None
    assert notes == [
        f"summary: DATE-OBS='2020-01-02T03:04:05' is in TIMESYS={timesys!r}, which has no conversion to UTC: not used"
    ]


@pytest.mark.parametrize(
    ("cards", "t_min", "t_max"),
    [
        # EVE and RHESSI: the underscore spelling, with its own clock keyword
        ([("DATE_OBS", "2020-01-02"), ("TIME_OBS", "03:04:05"), ("DATE_END", "2020-01-02T04:04:05")],
         MJD_2020_01_02 + CLOCK, MJD_2020_01_02 + CLOCK + 1 / 24),
        ([("DATE-BEG", "2020-01-02T03:04:05"), ("DATE-END", "2020-01-02"), ("TIME-END", "04:04:05")],
         MJD_2020_01_02 + CLOCK, MJD_2020_01_02 + CLOCK + 1 / 24),
        ([("MJD-OBS", 58850.25), ("MJD-END", 58850.5)], 58850.25, 58850.5),
        ([("MJD-BEG", 58850.25), ("MJD-END", 58850.5)], 58850.25, 58850.5),
        ([("EXPSTART", 58850.25), ("EXPEND", 58850.5)], 58850.25, 58850.5),
        # an X-ray mission's elapsed seconds: MJDREF, then MJDREFI + MJDREFF, in TIMEUNIT, with TIMEZERO
        ([("MJDREF", 58000.0), ("TSTART", 8640.0), ("TSTOP", 17280.0)], 58000.1, 58000.2),
        ([("MJDREFI", 58000), ("MJDREFF", 0.25), ("TIMEUNIT", "d"), ("TSTART", 1.0), ("TSTOP", 2.5),
          ("TIMEZERO", 0.25)], 58001.5, 58003.0),
        ([("JDREF", 2458000.5), ("TSTART", 43200.0), ("TSTOP", 86400.0)], 58000.5, 58001.0),
    ],
)
def test_the_usual_spellings_of_start_and_end(cards, t_min, t_max):
    summary, notes = summary_of(hdu(*cards))

    assert (summary["t_min"], summary["t_max"]) == (pytest.approx(t_min, abs=1e-9), pytest.approx(t_max, abs=1e-9))
    assert notes == []


def test_precise_numbers_come_before_dates_written_to_the_second():
    summary, _ = summary_of(hdu(("DATE-OBS", "2020-01-02"), ("EXPSTART", MJD_2020_01_02 + 0.123456789)))

    assert summary["t_min"] == MJD_2020_01_02 + 0.123456789


def test_the_end_is_the_start_plus_the_exposure_where_no_end_is_given():
    summary, _ = summary_of(hdu(("MJD-OBS", 58850.0), ("EXPOSURE", 4320.0)))

    assert summary["t_max"] == pytest.approx(58850.05, abs=1e-12)


@pytest.mark.parametrize(
    ("value", "comment", "date"),
    [
        ("2020-01-02", "", MJD_2020_01_02),
        ("2020-01-02T03:04:05.000", "", MJD_2020_01_02 + CLOCK),
        # FITS before 1999: DD/MM/YY means 19YY; 1996-01-06 is 51544 - 4 * 365 - 1 (1996) + 5
        ("06/01/96", "", 51544 - 4 * 365 - 1 + 5),
        # FIRST's YYYYMMDD: 1993-04-17 is 51544 - 7 * 365 - 1 (1996) + 31 + 28 + 31 + 16
        ("19930417", "", 51544 - 7 * 365 - 1 + 31 + 28 + 31 + 16),
        # a comment that says the order of a four-digit year's date
        ("02/01/2020", "date of observation (dd/mm/yyyy)", MJD_2020_01_02),
        ("01/02/2020", "start date, MM/DD/YYYY", MJD_2020_01_02),
        ("02/01/20", "", 51544 - 80 * 365 - 20 + 1),  # 1920-01-02: 20 leap days from 1920 to 1996
        ("01/02/96", "observation date (mm/dd/yy)", 51544 - 4 * 365 - 1 + 1),  # 1996-01-02
    ],
)
def test_date_forms(value, comment, date):
    summary, notes = summary_of(hdu(("DATE-OBS", value, comment)))

    assert summary["t_min"] == pytest.approx(date, abs=1e-9)
    assert notes == []


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("02/01/2020", "is DD/MM/YYYY or MM/DD/YYYY, and its comment does not say which"),
        ("14.08.2004", "is not a date (YYYY-MM-DD[Thh:mm:ss], DD/MM/YY or YYYYMMDD)"),
        ("2020-13-01", "is not a date (YYYY-MM-DD[Thh:mm:ss], DD/MM/YY or YYYYMMDD)"),
    ],
)
def test_a_date_that_cannot_be_read_is_named_in_the_warnings(value, reason):
    summary, notes = summary_of(hdu(("DATE-OBS", value, "Observation start")))

    assert summary["t_min"] is None
    assert notes == [f"summary: DATE-OBS={value!r} {reason}: not used"]


def test_goes_like_light_curve(tmp_path):
    """An SDAC GOES/XRS file: dd/mm/yyyy dates in the primary header, the fluxes in one row
    of a table whose TIME column holds the day's samples (seconds from the start)."""
    samples = 43200  # 2 s cadence over a day
    primary = fits.PrimaryHDU()
    primary.header.update([
        ("DATE", "08/06/2011", "file creation date (dd/mm/yyyy)"),
        ("TELESCOP", "GOES 15", "spacecraft"),
        ("INSTRUME", "X-ray Detector"),
        ("OBJECT", "Sun"),
        ("DATE-OBS", "07/06/2011", "date of observation (dd/mm/yyyy)"),
        ("TIME-OBS", "00:00:00.000", "time of observation"),
        ("DATE-END", "07/06/2011", "end date of observation (dd/mm/yyyy)"),
        ("TIME-END", "23:59:58.000", "end time of observation"),
    ])
    fluxes = fits.BinTableHDU.from_columns(
        [
            fits.Column("TIME", f"{samples}D", unit="s", array=np.arange(samples, dtype=float)[None] * 2),
            fits.Column("FLUX", f"{2 * samples}E", dim=f"(2,{samples})", unit="W/m^2",
                        array=np.full((1, samples, 2), 1e-7, np.float32)),
        ],
        name="FLUXES",
    )
    fits.HDUList([primary, fits.BinTableHDU(name="EDGES"), fluxes]).writeto(tmp_path / "go1520110607.fits")

    summary, notes = summary_of_file(tmp_path / "go1520110607.fits")

    june_7 = 51544 + 11 * 365 + 3 + 31 + 28 + 31 + 30 + 31 + 6  # 2011-06-07; leap days 2000, 2004, 2008
    assert summary["t_min"] == pytest.approx(june_7, abs=1e-9)
    assert summary["t_max"] == pytest.approx(june_7 + (DAY - 2) / DAY, abs=1e-9)
    assert summary["t_xel"] == samples  # one row of 43200 times
    assert (summary["t_resolution"], summary["t_exptime"]) == (None, None)  # the file gives neither
    assert notes == []


@pytest.mark.parametrize(
    ("cards", "seconds"),
    [
        ([("EXPTIME", 3.1), ("EXPOSURE", 4999.0)], 4999.0),
        ([("EXPTIME", 3.1), ("LIVETIME", 4999.0)], 4999.0),
        ([("EXPTIME", 2.9), ("XPOSURE", 5.8, "[s] total exposure of 2 summed")], 5.8),  # solar (SOLARNET)
        ([("EXP_TIME", 10.0)], 10.0),  # UKIDSS
        ([("TEXPTIME", 300.0), ("ITIME", 30.0)], 300.0),
        ([("ITIME", 30.0)], 30.0),
        ([("EXPOSURE", 0.5, "[d] time on source")], 43200.0),  # Kepler: the unit in the comment
        ([("EXPOSURE", 0.25), ("TIMEUNIT", "d")], 21600.0),  # EXPOSURE is in TIMEUNIT
        ([("EXPTIME", 30.0), ("TIMEUNIT", "d")], 30.0),  # EXPTIME is not
        ([("EXPOSURE", 90.0, "[min]")], 5400.0),
    ],
)
def test_exposure_by_preference_in_seconds(cards, seconds):
    summary, notes = summary_of(hdu(*cards))

    assert summary["t_exptime"] == pytest.approx(seconds, rel=1e-12)
    assert notes == []


def test_an_exposure_in_a_unit_that_is_no_time_is_refused_by_name():
    summary, notes = summary_of(hdu(("EXPOSURE", 5.0, "[mm] not a time"), ("EXPTIME", 3.0)))

    assert summary["t_exptime"] == 3.0
    assert notes == [
        "summary: EXPOSURE=5.0 is in the unit 'mm' of its comment, which is not a unit of time"
        " (s, ms, us, ns, min, h, d, a, yr, cy): not used"
    ]


def test_timedel_gives_the_resolution_in_timeunit():
    summary, _ = summary_of(hdu(("TIMEDEL", 1 / 1440), ("TIMEUNIT", "d")))

    assert summary["t_resolution"] == pytest.approx(60.0, rel=1e-12)


def test_a_cube_with_a_time_axis(tmp_path):
    header = fits.Header({"CTYPE1": "X", "CTYPE2": "Y", "CTYPE3": "UTC", "CDELT3": 0.5, "CUNIT3": "min",
                          "CRVAL3": 0.0, "CRPIX3": 1.0})
    fits.PrimaryHDU(np.zeros((12, 4, 4), np.float32), header).writeto(tmp_path / "cube.fits")

    summary, notes = summary_of_file(tmp_path / "cube.fits")

    assert (summary["t_resolution"], summary["t_xel"]) == (30.0, 12)
    assert notes == []


def test_a_time_axis_in_a_unit_that_is_no_time_is_named():
    image = hdu(("NAXIS", 3), ("NAXIS3", 12), ("CTYPE3", "TIME"), ("CDELT3", 2.0), ("CUNIT3", "deg"), shape=[12, 4, 4])

    summary, notes = summary_of(image)

    assert (summary["t_resolution"], summary["t_xel"]) == (None, 12)
    assert notes == [
        "summary: CDELT3=2.0 is in the unit 'deg' of CUNIT3, which is not a unit of time"
        " (s, ms, us, ns, min, h, d, a, yr, cy): t_resolution not taken from the time axis 3"
    ]


def test_a_binned_light_curve_counts_its_rows_and_an_event_list_does_not(tmp_path):
    time = fits.Column("TIME", "D", unit="s", array=np.arange(100.0) * 16)
    rate = fits.Column("RATE", "E", unit="count/s", array=np.ones(100, np.float32))
    curve = fits.BinTableHDU.from_columns([time, rate], name="RATE")
    curve.header.update({"HDUCLAS1": "LIGHTCURVE", "TIMEDEL": 16.0})
    events = fits.BinTableHDU.from_columns([time, fits.Column("PI", "J", array=np.ones(100, np.int32))],
                                           name="EVENTS")
    fits.HDUList([fits.PrimaryHDU(), curve]).writeto(tmp_path / "curve.fits")
    fits.HDUList([fits.PrimaryHDU(), events]).writeto(tmp_path / "events.fits")

    light_curve, _ = summary_of_file(tmp_path / "curve.fits")
    event_list, _ = summary_of_file(tmp_path / "events.fits")

    assert (light_curve["t_resolution"], light_curve["t_xel"]) == (16.0, 100)
    assert (event_list["t_resolution"], event_list["t_xel"]) == (None, None)


def test_elapsed_times_without_a_reference_are_named():
    summary, notes = summary_of(hdu(("TSTART", 570218309.9, "[s] Observation start time (MET)")))

    assert summary["t_min"] is None
    assert notes == ["summary: TSTART=570218309.9 counts from no MJDREF, MJDREFI/MJDREFF or JDREF: not used"]


def test_every_refused_time_value_is_a_warning_naming_its_card():
    """Lookup.find notes what it skips; a later keyword still gives the field."""
    summary, notes = summary_of(hdu(("EXPOSURE", "long"), ("EXPTIME", -5), ("ITIME", 30), ("MJD-OBS", True),
                                    ("DATE-OBS", 2020)))

    assert (summary["t_exptime"], summary["t_min"]) == (30.0, None)
    assert notes == [
        "summary: EXPOSURE='long' is not a number >= 0: not used",
        "summary: EXPTIME=-5 is not a number >= 0: not used",
        "summary: MJD-OBS=True is not a number >= -inf: not used",
        "summary: DATE-OBS=2020 is not a date and time: not used",
    ]


@pytest.mark.parametrize(
    ("cards", "note"),
    [
        ([("MJDREF", 50814.0), ("TSTART", 10.0), ("TIMEUNIT", "fortnight")],
         "TSTART=10.0 is in the unit 'fortnight' of TIMEUNIT, which is not a unit of time"
         " (s, ms, us, ns, min, h, d, a, yr, cy)"),
        ([("MJD-OBS", 1e300), ("TIMESYS", "TT")],
         'MJD-OBS=1e+300 cannot be converted from TT to UTC (ERFA function "taiutc" yielded 1 of "unacceptable date")'),
    ],
)
def test_a_time_that_cannot_be_converted_is_named(cards, note):
    summary, notes = summary_of(hdu(*cards))

    assert summary["t_min"] is None
    assert notes == [f"summary: {note}: not used"]


def test_a_time_axis_beyond_naxis_is_one_pixel_whatever_a_stray_naxisn_says():
    """WCSAXES = 3 over a 2-D image: its third axis is one pixel (FITS WCS paper I), not NAXIS3's 10**29."""
    image = hdu(("NAXIS", 2), ("NAXIS1", 4), ("NAXIS2", 4), ("WCSAXES", 3), ("CTYPE3", "TIME"), ("CDELT3", 2.0),
                ("NAXIS3", 10**29), shape=[4, 4])

    summary, _ = summary_of(image)

    assert (summary["t_resolution"], summary["t_xel"]) == (2.0, 1)
