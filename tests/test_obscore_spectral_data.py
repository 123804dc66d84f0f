"""em_min/em_max from the data of the spectra charted as previews, where no header bounds them."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from handlers.config import Settings
from handlers.pipeline import process
from handlers.storage.local_source import LocalSource
from handlers.storage.outputs import FolderOutput

from .test_previews_missions import ARMS, desi_coadd, table_spectrum

ANGSTROM = 1e-10


def summary_of(path: Path) -> dict:
    settings = Settings()
    out = path.parent / "out"
    outcome = process(LocalSource(str(path), settings.reads), FolderOutput(out), settings)
    assert outcome.status == "processed", outcome.error
    return json.loads((out / "metadata" / f"{path.name}.json").read_text())["summary"]


def test_a_desi_coadd_covers_its_three_cameras_from_their_wavelength_arrays(tmp_path: Path) -> None:
    summary = summary_of(desi_coadd(tmp_path / "coadd.fits"))

    # The arrays run from B's first wavelength to Z's last, 0.8 Å a pixel (np.arange up to stop + 0.4).
    last_z = ARMS["Z"][0] + 0.8 * math.floor((ARMS["Z"][1] + 0.4 - ARMS["Z"][0]) / 0.8 - 1e-9)
    assert summary["em_min"] == pytest.approx(ARMS["B"][0] * ANGSTROM, rel=1e-9)
    assert summary["em_max"] == pytest.approx(last_z * ANGSTROM, rel=1e-9)
    assert summary["dataproduct_type"] == "spectrum"


def test_a_table_spectrum_covers_the_wavelengths_whose_flux_is_finite(tmp_path: Path) -> None:
    summary = summary_of(table_spectrum(tmp_path / "x1d.fits"))

    assert (summary["em_min"], summary["em_max"]) == pytest.approx((6000 * ANGSTROM, 7000 * ANGSTROM), rel=1e-9)


def test_an_sdss_spectrum_in_log10_angstrom_is_converted(tmp_path: Path) -> None:
    loglam = np.linspace(3.5798, 3.9640, 300)
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns([
        fits.Column("loglam", "300E", array=loglam[None, :]),
        fits.Column("flux", "300E", unit="1e-17 erg/s/cm2/Angstrom", array=np.ones((1, 300))),
    ], name="COADD")]).writeto(tmp_path / "spec.fits")

    summary = summary_of(tmp_path / "spec.fits")

    low, high = 10 ** float(np.float32(3.5798)), 10 ** float(np.float32(3.9640))  # stored as 32-bit floats
    assert (summary["em_min"], summary["em_max"]) == pytest.approx((low * ANGSTROM, high * ANGSTROM), rel=1e-6)


def test_stated_bounds_win_over_the_data(tmp_path: Path) -> None:
    path = table_spectrum(tmp_path / "x1d.fits")
    with fits.open(path, mode="update") as hdul:
        hdul[0].header["MINWAVE"] = (5000.0, "[Angstrom]")
        hdul[0].header["MAXWAVE"] = (8000.0, "[Angstrom]")

    summary = summary_of(path)

    assert (summary["em_min"], summary["em_max"]) == pytest.approx((5000 * ANGSTROM, 8000 * ANGSTROM), rel=1e-9)


def test_a_spectrum_with_one_finite_point_covers_that_wavelength_not_the_charts_frame(tmp_path: Path) -> None:
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns([
        fits.Column("WAVELENGTH", "D", unit="Angstrom", array=[5000.0, 5001.0, 5002.0]),
        fits.Column("FLUX", "E", array=[1.0, np.nan, np.nan]),
    ], name="SPECTRUM")]).writeto(tmp_path / "one.fits")

    summary = summary_of(tmp_path / "one.fits")

    assert (summary["em_min"], summary["em_max"]) == pytest.approx((5000 * ANGSTROM, 5000 * ANGSTROM), rel=1e-12)
