"""Previews of files laid out as missions write them (DESI, a table spectrum, GOES, Chandra) and of
astropy's own spectral headers, through the read phase as the pipeline runs it; judged on their pixels."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from astropy.io import fits
from astropy.utils.data import get_pkg_data_filename
from PIL import Image

from handlers.config import ReadSettings, Settings
from handlers.deadline import Deadline
from handlers.documents import HduDocument, Preview
from handlers.errors import TimeLimitError
from handlers.fits.extract import extract
from handlers.storage.local_source import LocalSource

from .test_previews_plots import line_pixels, peak_column, x_pixel

ARMS = {"B": (3600.0, 5800.0), "R": (5760.0, 7620.0), "Z": (7520.0, 9824.0)}  # DESI's cameras, 0.8 A a pixel
DESI_FLUX_UNIT = "10**-17 erg/(s cm2 Angstrom)"


def previews(path: Path, **env: str) -> tuple[dict[str, HduDocument], dict[str, np.ndarray]]:
    """The HDUs' documents by EXTNAME and their PNGs decoded, as the read phase makes them."""
    settings = Settings.from_env({"OUTPUT_BUCKET": "out", **env})
    extraction = extract(LocalSource(str(path), ReadSettings()).open(), path.name, settings, Deadline())
    pictures = {name: np.asarray(Image.open(io.BytesIO(png)).convert("RGB")) for name, png in extraction.thumbnails}
    docs = {doc["name"]: doc for doc in extraction.hdus}
    return docs, {doc["name"]: pictures[doc["thumbnail"]] for doc in extraction.hdus if doc["thumbnail"]}


def preview_of(docs: dict[str, HduDocument], name: str) -> Preview:
    preview = docs[name]["preview"]
    assert preview is not None
    return preview


def desi_coadd(path: Path, nspec: int = 5) -> Path:
    """A DESI coadd's layout: FIBERMAP, then per arm WAVELENGTH, FLUX, IVAR, MASK, RESOLUTION (desispec.io)."""
    fibermap = [fits.Column("TARGETID", "K", array=np.arange(nspec)),
                fits.Column("TARGET_RA", "D", array=np.full(nspec, 150.1))]
    hdus: list[Any] = [fits.PrimaryHDU(), fits.BinTableHDU.from_columns(fibermap, name="FIBERMAP")]
    for arm, (start, stop) in ARMS.items():
        wave = np.arange(start, stop + 0.4, 0.8)
        flux = np.ones((nspec, wave.size), dtype=np.float32)
        flux[0] += 8.0 * np.exp(-0.5 * ((wave - (start + 0.6 * (stop - start))) / 3.0) ** 2)  # a line at 60 %
        hdus += [
            fits.ImageHDU(wave, name=f"{arm}_WAVELENGTH", header=fits.Header([("BUNIT", "Angstrom")])),
            fits.ImageHDU(flux, name=f"{arm}_FLUX", header=fits.Header([("BUNIT", DESI_FLUX_UNIT)])),
            fits.ImageHDU(np.full_like(flux, 4.0), name=f"{arm}_IVAR"),
            fits.ImageHDU(np.zeros(flux.shape, dtype=np.int32), name=f"{arm}_MASK"),
            fits.ImageHDU(np.ones((nspec, 11, wave.size), dtype=np.float32), name=f"{arm}_RESOLUTION"),
        ]
    fits.HDUList(hdus).writeto(path)
    return path


def test_a_desi_coadd_charts_each_arms_spectra_against_its_wavelengths(tmp_path: Path) -> None:
    docs, pictures = previews(desi_coadd(tmp_path / "coadd.fits"))
    for arm, (start, stop) in ARMS.items():
        preview = preview_of(docs, f"{arm}_FLUX")
        assert preview["kind"] == "spectrum"
        assert preview["x"] == {"quantity": "wavelength", "unit": "Angstrom", "source": f"HDU {arm}_WAVELENGTH",
                                "min": start, "max": pytest.approx(stop, abs=0.8)}
        assert preview["y"]["unit"] == DESI_FLUX_UNIT and preview["y"]["quantity"] == "flux"
        assert [s["label"] for s in preview["series"]] == [f"row {n}" for n in range(5)]
        line = start + 0.6 * (stop - start)
        assert abs(peak_column(pictures[f"{arm}_FLUX"]) - x_pixel(preview, line)) <= 1.5
        assert pictures[f"{arm}_FLUX"].shape == (320, 512, 3)  # a chart, not a 459x1 strip
        assert "x axis" in preview_of(docs, f"{arm}_WAVELENGTH")["skipped"]
        assert preview_of(docs, f"{arm}_IVAR")["y"]["quantity"] == "ivar"
        assert "every value read is 0" in preview_of(docs, f"{arm}_MASK")["skipped"]
        assert "resolution matrices" in preview_of(docs, f"{arm}_RESOLUTION")["skipped"]
    assert "no columns a preview draws" in preview_of(docs, "FIBERMAP")["skipped"]


def test_a_desi_coadds_rows_shown_are_at_most_eight_evenly_spaced(tmp_path: Path) -> None:
    docs, _ = previews(desi_coadd(tmp_path / "coadd.fits", nspec=50))
    preview = preview_of(docs, "B_FLUX")
    assert [s["label"] for s in preview["series"]] == [f"row {n}" for n in (0, 7, 14, 21, 28, 35, 42, 49)]
    assert preview["series_total"] == 50


def table_spectrum(path: Path, descending: bool = False) -> Path:
    """One row a point, WAVELENGTH and FLUX columns (as SDSS and HST's x1d write them), an H-alpha line,
    a gap of NaN and a cosmic ray."""
    wave = np.linspace(6000.0, 7000.0, 2000)
    flux = 2.0 + 6.0 * np.exp(-0.5 * ((wave - 6563.0) / 2.0) ** 2)
    flux[(wave > 6200.0) & (wave < 6300.0)] = np.nan
    flux[1500] = 1e5
    order = slice(None, None, -1) if descending else slice(None)
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns([
        fits.Column("WAVELENGTH", "D", unit="Angstrom", array=wave[order]),
        fits.Column("FLUX", "E", unit="erg/s/cm2/Angstrom", array=flux[order]),
    ], name="SPECTRUM")]).writeto(path)
    return path


@pytest.mark.parametrize("descending", [False, True])
def test_a_table_spectrum_is_charted_flux_against_wavelength(tmp_path: Path, descending: bool) -> None:
    docs, pictures = previews(table_spectrum(tmp_path / "x1d.fits", descending))
    preview, pixels = preview_of(docs, "SPECTRUM"), pictures["SPECTRUM"]
    assert preview["kind"] == "spectrum" and preview["table_rows_read"] == preview["table_rows"] == 2000
    assert preview["x"]["unit"] == "Angstrom" and preview["x"]["source"] == "column WAVELENGTH"
    assert (preview["x"]["min"], preview["x"]["max"]) == (6000.0, 7000.0)
    spike = round(x_pixel(preview, 6000.0 + 1500 * 1000.0 / 1999))
    assert preview["y"]["max"] < 10.0  # the cosmic ray is ignored, the line (8) is not
    pixels = pixels.copy()
    pixels[:, spike - 1 : spike + 2] = 255  # the cosmic ray, drawn up to the frame: not the line's peak
    assert abs(peak_column(pixels) - x_pixel(preview, 6563.0)) <= 1.5  # right way round either order
    columns = set(line_pixels(pixels)[:, 1].tolist())
    assert not columns & set(range(int(x_pixel(preview, 6200.0)) + 2, int(x_pixel(preview, 6300.0)) - 1))


def goes_xrs(path: Path) -> Path:
    """GOES XRS as the SDAC's FITS files hold it (sunpy's XRSTimeSeries reads them): HDU 2, one row of
    TIME (seconds from DATE-OBS) and FLUX (time x 2 channels, W/m2), a flare at 2/3 of the day."""
    time = np.arange(0.0, 86400.0, 60.0)
    long = 1e-6 + 1e-4 * np.exp(-0.5 * ((time - 57600.0) / 1800.0) ** 2)
    flux = np.stack([long, long / 10], axis=1).astype(np.float32)  # numpy (time, channel): TDIM (2, n)
    rate = fits.BinTableHDU.from_columns([
        fits.Column("TIME", f"{time.size}D", unit="s", array=time[None, :]),
        fits.Column("FLUX", f"{flux.size}E", unit="W/m2", dim=f"(2,{time.size})", array=flux[None, :, :]),
    ], name="FLUXES")
    edges = fits.BinTableHDU.from_columns([fits.Column("EDGES", "2E", array=[[0.05, 0.4]])], name="EDGES")
    status = fits.BinTableHDU.from_columns([fits.Column("STATUS1", "J", array=[0])], name="STATUS")
    fits.HDUList([fits.PrimaryHDU(header=fits.Header([("DATE-OBS", "12/06/2012")])), edges, rate, status]).writeto(path)
    return path


def test_a_goes_light_curve_charts_both_channels_on_a_log_axis(tmp_path: Path) -> None:
    docs, pictures = previews(goes_xrs(tmp_path / "go1520120612.fits"))
    preview = preview_of(docs, "FLUXES")
    assert preview["kind"] == "light_curve"
    assert preview["x"]["quantity"] == "time" and preview["x"]["unit"] == "s"
    assert [s["label"] for s in preview["series"]] == ["row 0 channel 0", "row 0 channel 1"]
    assert preview["y"]["scale"] == "log10" and preview["y"]["unit"] == "W/m2"
    assert abs(peak_column(pictures["FLUXES"], 0) - x_pixel(preview, 57600.0)) <= 1.5
    assert abs(peak_column(pictures["FLUXES"], 1) - x_pixel(preview, 57600.0)) <= 1.5
    assert "no columns" in preview_of(docs, "STATUS")["skipped"]


def chandra_events(path: Path, rows: int = 20_000) -> Path:
    """An ACIS event list's layout (EXTNAME EVENTS, HDUCLAS1 EVENTS; time, ccd_id, chipx/y, detx/y, x/y, energy):
    a point source on a faint background."""
    rng = np.random.default_rng(7)
    source = rows // 4
    x = np.concatenate([rng.normal(4200.0, 1.5, source), rng.uniform(3000.0, 5000.0, rows - source)])
    y = np.concatenate([rng.normal(3900.0, 1.5, source), rng.uniform(3000.0, 5000.0, rows - source)])
    columns = [
        fits.Column("time", "D", unit="s", array=np.sort(rng.uniform(4.0e8, 4.0e8 + 3e4, rows))),
        fits.Column("ccd_id", "I", array=np.full(rows, 7)),
        fits.Column("chipx", "I", unit="pixel", array=rng.integers(1, 1025, rows)),
        fits.Column("chipy", "I", unit="pixel", array=rng.integers(1, 1025, rows)),
        fits.Column("detx", "E", unit="pixel", array=x + 10),
        fits.Column("dety", "E", unit="pixel", array=y - 10),
        fits.Column("x", "E", unit="pixel", array=x),
        fits.Column("y", "E", unit="pixel", array=y),
        fits.Column("energy", "E", unit="eV", array=rng.uniform(500, 7000, rows)),
    ]
    events = fits.BinTableHDU.from_columns(columns, name="EVENTS")
    events.header["HDUCLAS1"] = "EVENTS"
    fits.HDUList([fits.PrimaryHDU(), events]).writeto(path)
    return path


def test_a_chandra_event_list_is_binned_with_its_counts_where_the_events_are(tmp_path: Path) -> None:
    docs, pictures = previews(chandra_events(tmp_path / "acisf_evt2.fits"))
    preview, pixels = preview_of(docs, "EVENTS"), pictures["EVENTS"][:, :, 0]
    assert preview["kind"] == "events" and preview["events"] == 20_000
    assert preview["x"]["source"] == "column x" and preview["x"]["unit"] == "pixel"
    size = preview["bin_size"]
    column = int((4200.0 - preview["x"]["min"]) // size)
    row = pixels.shape[0] - 1 - int((3900.0 - preview["y"]["min"]) // size)  # row 0 of the bins at the bottom
    brightest = np.unravel_index(np.argmax(pixels), pixels.shape)
    assert brightest == pytest.approx((row, column), abs=1) and pixels[row, column] > 200
    assert np.median(pixels) < 128


def test_a_large_event_list_is_sampled_in_runs_within_the_read_budget(tmp_path: Path) -> None:
    path = chandra_events(tmp_path / "acisf_evt2.fits", rows=100_000)
    row_bytes = fits.getheader(path, 1)["NAXIS1"]
    docs, pictures = previews(path, PREVIEW_READ_BYTES=str(64 * 300 * row_bytes))
    preview = preview_of(docs, "EVENTS")
    assert preview["table_rows"] == 100_000 and preview["table_rows_read"] == 64 * 300
    assert preview["events"] == 64 * 300


ORION = ["orion-freq-1.hdr", "orion-freq-4.hdr", "orion-velo-1.hdr", "orion-velo-4.hdr", "orion-wave-1.hdr",
         "orion-wave-4.hdr"]


@pytest.mark.parametrize("name", ORION)
def test_astropys_spectral_headers_give_spectra_on_their_wcs(tmp_path: Path, name: str) -> None:
    """astropy's spectral WCS examples (Calabretta and Petry's Orion KL spectrum, linear in frequency,
    velocity and wavelength), with a line at pixel 3000 of 4096."""
    header = fits.Header.fromfile(get_pkg_data_filename(f"data/spectra/{name}", package="astropy.wcs.tests"),
                                  sep="", endcard=False, padding=False)
    shape = tuple(header[f"NAXIS{n}"] for n in range(header["NAXIS"], 0, -1))
    spectrum = (1.0 + 5 * np.exp(-0.5 * ((np.arange(4096) - 3000) / 6.0) ** 2)).astype(np.float32)
    fits.PrimaryHDU(spectrum.reshape(shape), header=header).writeto(tmp_path / "orion.fits")
    docs, pictures = previews(tmp_path / "orion.fits")
    preview = preview_of(docs, "PRIMARY")
    crval, crpix, cdelt = header["CRVAL1"], header["CRPIX1"], header["CDELT1"]
    world = crval + (np.arange(1, 4097) - crpix) * cdelt  # paper I's linear axis, computed here from the header
    quantity = {"FREQ": "frequency", "VELO": "velocity", "WAVE": "wavelength"}[header["CTYPE1"].strip()]
    assert preview["kind"] == "spectrum"
    assert preview["x"]["quantity"] == quantity and preview["x"]["unit"] == header["CUNIT1"].strip()
    assert (preview["x"]["min"], preview["x"]["max"]) == pytest.approx((world.min(), world.max()), rel=1e-12)
    assert preview["y"]["unit"] == "K"
    assert abs(peak_column(pictures["PRIMARY"]) - x_pixel(preview, world[3000])) <= 1.5


@pytest.mark.parametrize(("shape", "reason"), [((1, 1), "a single pixel"), ((3, 1, 7), "one row or column"),
                                                ((0, 5), "no pixels")])
def test_degenerate_images_are_skipped_with_a_reason(tmp_path: Path, shape: tuple[int, ...], reason: str) -> None:
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(np.ones(shape, dtype=np.float32), name="ODD")]).writeto(
        tmp_path / "odd.fits")
    docs, pictures = previews(tmp_path / "odd.fits")
    assert reason in preview_of(docs, "ODD")["skipped"] and not pictures


def test_an_image_of_one_row_is_charted_against_its_pixels(tmp_path: Path) -> None:
    values = np.exp(-0.5 * ((np.arange(512) - 300.0) / 5.0) ** 2).astype(np.float32)
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(values[None, :], name="D2IMARR")]).writeto(tmp_path / "d2im.fits")
    docs, pictures = previews(tmp_path / "d2im.fits")
    preview = preview_of(docs, "D2IMARR")
    assert preview["kind"] == "plot" and preview["x"]["source"] == "pixel index"
    assert abs(peak_column(pictures["D2IMARR"]) - x_pixel(preview, 300.0)) <= 1.5


def test_a_mask_with_information_is_still_drawn_and_an_empty_one_is_not(tmp_path: Path) -> None:
    flags = np.zeros((64, 64), dtype=np.int16)
    flags[10:20, 30:40] = 4
    empty = np.zeros_like(flags)
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(flags, name="DQ"), fits.ImageHDU(empty, name="SCI_MASK"),
                  fits.ImageHDU(empty, name="COUNTS"),
                  fits.ImageHDU(np.full((64, 64), 7.5, dtype=np.float32), name="FLAT")]).writeto(tmp_path / "dq.fits")
    docs, pictures = previews(tmp_path / "dq.fits")
    assert preview_of(docs, "DQ")["kind"] == "image" and "DQ" in pictures
    assert preview_of(docs, "SCI_MASK")["skipped"] == "every pixel is 0: a mask or quality array with nothing to show"
    assert preview_of(docs, "COUNTS")["kind"] == "image"  # not named a mask: drawn (black), as before
    assert preview_of(docs, "FLAT")["kind"] == "image"  # a float image of one value is drawn grey, as before


def test_a_table_whose_columns_cannot_be_read_loses_its_chart_not_the_files_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreadable(*args: object) -> None:
        raise ValueError("field 'RATE' has a bad TFORM")

    monkeypatch.setattr("handlers.fits.previews.tables.read_columns", unreadable)
    docs, pictures = previews(goes_xrs(tmp_path / "go1520120612.fits"))
    assert preview_of(docs, "FLUXES")["skipped"] == (
        "its data could not be read for a chart: ValueError: field 'RATE' has a bad TFORM")
    assert not pictures and len(docs) == 4


def test_the_time_limit_still_ends_an_object_while_its_table_is_read(tmp_path: Path) -> None:
    path = chandra_events(tmp_path / "acisf_evt2.fits")
    with pytest.raises(TimeLimitError, match="reading the rows of HDU EVENTS"):
        extract(LocalSource(str(path), ReadSettings()).open(), path.name, Settings(), PastDeadline())


class PastDeadline(Deadline):
    """A deadline that has passed once the HDUs are described: the first check of a preview fails."""

    def check(self, doing: str) -> None:
        if doing.startswith("reading the rows"):
            raise TimeLimitError(f"the function's time ran out while {doing}")


def test_a_small_image_is_enlarged_by_a_whole_factor_to_the_minimum_side(tmp_path: Path) -> None:
    pixels = np.arange(20, dtype=np.float32).reshape(5, 4)
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(pixels, name="TINY")]).writeto(tmp_path / "tiny.fits")
    docs, pictures = previews(tmp_path / "tiny.fits", THUMBNAIL_MIN_SIZE="1")
    assert pictures["TINY"].shape[:2] == (5, 4) and "upsample" not in preview_of(docs, "TINY")
    docs, large = previews(tmp_path / "tiny.fits")  # the default minimum side, 64
    preview = preview_of(docs, "TINY")
    assert preview["upsample"] == 13 and (preview["height"], preview["width"]) == (65, 52)  # ceil(64 / 5)
    assert (large["TINY"] == np.repeat(np.repeat(pictures["TINY"], 13, axis=0), 13, axis=1)).all()


def test_a_2d_spectrum_is_drawn_as_the_image_it_is_with_its_dispersion_axis(tmp_path: Path) -> None:
    """A long-slit spectrum (wavelength along NAXIS1) is the image it always was, its dispersion axis said;
    a radio cube's spectral third axis is not drawn, so its middle plane is a plain image."""
    pixels = np.random.default_rng(3).normal(100.0, 5.0, (40, 300)).astype(np.float32)
    slit = fits.Header([("CTYPE1", "WAVE"), ("CUNIT1", "Angstrom"), ("CRVAL1", 5000.0), ("CDELT1", 2.0),
                        ("CTYPE2", "LINEAR")])
    cube = fits.Header([("CTYPE1", "RA---SIN"), ("CTYPE2", "DEC--SIN"), ("CTYPE3", "FREQ")])
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(pixels, slit, name="SLIT"), fits.ImageHDU(pixels, name="PLAIN"),
                  fits.ImageHDU(np.stack([pixels] * 3), cube, name="CUBE")]).writeto(tmp_path / "slit.fits")
    docs, pictures = previews(tmp_path / "slit.fits")
    assert preview_of(docs, "SLIT")["kind"] == "spectrum_2d" and preview_of(docs, "SLIT")["dispersion_axis"] == 1
    assert (pictures["SLIT"] == pictures["PLAIN"]).all() and preview_of(docs, "PLAIN")["kind"] == "image"
    assert preview_of(docs, "CUBE")["kind"] == "image" and "dispersion_axis" not in preview_of(docs, "CUBE")


def test_an_sdss_like_row_of_arrays_is_charted_against_log10_wavelength(tmp_path: Path) -> None:
    """SDSS's spec files hold a spectrum as columns loglam and flux; here one row of arrays."""
    loglam = np.linspace(3.5798, 3.9640, 3000)
    flux = 5.0 + 20.0 * np.exp(-0.5 * ((loglam - np.log10(6564.6)) / 1e-4) ** 2)
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns([
        fits.Column("loglam", "3000E", array=loglam[None, :]),
        fits.Column("flux", "3000E", unit="1e-17 erg/s/cm2/Angstrom", array=flux[None, :]),
    ], name="COADD")]).writeto(tmp_path / "spec.fits")
    docs, pictures = previews(tmp_path / "spec.fits")
    preview = preview_of(docs, "COADD")
    assert preview["kind"] == "spectrum" and preview["x"]["quantity"] == "log10 wavelength"
    assert [s["label"] for s in preview["series"]] == ["row 0"]
    assert abs(peak_column(pictures["COADD"]) - x_pixel(preview, np.log10(6564.6))) <= 1.5


def test_a_spectrum_with_no_finite_value_is_skipped(tmp_path: Path) -> None:
    header = fits.Header([("CTYPE1", "WAVE"), ("CRVAL1", 4000.0), ("CDELT1", 1.0)])
    fits.PrimaryHDU(np.full(100, np.nan, dtype=np.float32), header).writeto(tmp_path / "nan.fits")
    docs, pictures = previews(tmp_path / "nan.fits")
    assert preview_of(docs, "PRIMARY") == {"skipped": "no finite value to chart"} and not pictures


def test_variable_length_columns_are_not_charted_from_their_descriptors(tmp_path: Path) -> None:
    wave = [np.linspace(4000.0, 5000.0, 100), np.linspace(5000.0, 6000.0, 50)]
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns([
        fits.Column("WAVELENGTH", "PD()", array=wave), fits.Column("FLUX", "PE()", array=[np.ones(100), np.ones(50)]),
    ], name="VLA")]).writeto(tmp_path / "vla.fits")
    docs, pictures = previews(tmp_path / "vla.fits")
    assert "WAVELENGTH holds variable-length arrays" in preview_of(docs, "VLA")["skipped"] and not pictures


def tess_light_curve(path: Path) -> Path:
    """A TESS SPOC light curve's layout (HDU LIGHTCURVE: TIME in BTJD days, SAP_FLUX, PDCSAP_FLUX in e-/s,
    QUALITY): a transit, the mid-sector gap as NaN times and fluxes, and one cosmic ray."""
    time = 1500.0 + np.arange(0.0, 27.0, 2.0 / 1440)  # two-minute cadence
    flux = 1000.0 + np.where(np.abs(time - 1510.0) < 0.1, -300.0, 0.0)
    gap = (time > 1513.0) & (time < 1514.0)
    time[gap], flux[gap] = np.nan, np.nan
    flux[12000] = 1e7
    columns = [fits.Column("TIME", "D", unit="BJD - 2457000, days", array=time),
               fits.Column("SAP_FLUX", "E", unit="e-/s", array=flux * 1.1),
               fits.Column("PDCSAP_FLUX", "E", unit="e-/s", array=flux),
               fits.Column("QUALITY", "J", array=np.zeros(time.size, dtype=np.int32))]
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(columns, name="LIGHTCURVE")]).writeto(path)
    return path


def test_a_tess_light_curve_shows_its_transit_where_it_is_and_its_gap_as_a_gap(tmp_path: Path) -> None:
    docs, pictures = previews(tess_light_curve(tmp_path / "tess_lc.fits"))
    preview, pixels = preview_of(docs, "LIGHTCURVE"), pictures["LIGHTCURVE"]
    assert preview["kind"] == "light_curve" and preview["y"]["quantity"] == "pdcsap_flux"
    assert preview["x"] == {"quantity": "time", "unit": "BJD - 2457000, days", "source": "column TIME",
                            "min": 1500.0, "max": pytest.approx(1527.0, abs=0.01)}
    assert preview["y"]["max"] < 1100.0  # the cosmic ray left out; the transit (700) in
    assert preview["y"]["min"] < 700.0
    drawn = line_pixels(pixels)
    lowest = drawn[drawn[:, 0] == drawn[:, 0].max(), 1]
    assert abs(lowest.mean() - x_pixel(preview, 1510.0)) <= 1.5
    inside = set(range(int(x_pixel(preview, 1513.0)) + 2, int(x_pixel(preview, 1514.0)) - 1))
    assert inside and not set(drawn[:, 1].tolist()) & inside


def test_a_desi_frame_charts_its_flux_against_the_wavelengths_written_after_it(tmp_path: Path) -> None:
    """DESI's frame files (desispec.io.frame) write FLUX, IVAR, MASK, then WAVELENGTH, RESOLUTION, FIBERMAP."""
    wave = np.arange(5760.0, 7620.4, 0.8)
    flux = np.ones((3, wave.size), dtype=np.float32)
    flux[1] += 6.0 * np.exp(-0.5 * ((wave - 6563.0) / 3.0) ** 2)
    mask = np.zeros(flux.shape, dtype=np.int32)
    mask[2, 100:120] = 1
    fits.HDUList([
        fits.PrimaryHDU(flux, fits.Header([("EXTNAME", "FLUX"), ("BUNIT", "electron/Angstrom")])),
        fits.ImageHDU(np.full_like(flux, 2.0), name="IVAR"), fits.ImageHDU(mask, name="MASK"),
        fits.ImageHDU(wave, name="WAVELENGTH", header=fits.Header([("BUNIT", "Angstrom")])),
        fits.ImageHDU(np.ones((3, 11, wave.size), dtype=np.float32), name="RESOLUTION"),
    ]).writeto(tmp_path / "frame-r0-00012345.fits")
    docs, pictures = previews(tmp_path / "frame-r0-00012345.fits")
    preview = preview_of(docs, "FLUX")
    assert preview["kind"] == "spectrum" and preview["x"]["source"] == "HDU WAVELENGTH"
    assert abs(peak_column(pictures["FLUX"], 1) - x_pixel(preview, 6563.0)) <= 1.5
    assert preview_of(docs, "IVAR")["kind"] == preview_of(docs, "MASK")["kind"] == "spectrum"
    assert "resolution matrices" in preview_of(docs, "RESOLUTION")["skipped"]
    assert sorted(pictures) == ["FLUX", "IVAR", "MASK"]  # one picture each, the charts in place of the images
