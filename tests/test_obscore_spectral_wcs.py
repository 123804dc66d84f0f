"""em_min/em_max/em_xel from spectral WCS axes (WCS paper III), each expected value worked out here
from the header's cards; astropy's own spectral test headers (the Orion 13CO spectrum) where it has them."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from astropy.utils.data import get_pkg_data_filename

from handlers.obscore.record import observation_summary

from .test_metadata import describe_file

C = 299_792_458.0  # m/s, exact
HI_21CM = 1_420_405_751.768  # Hz, the hydrogen line's rest frequency


def summary_of(tmp_path: Path, data: np.ndarray, **cards: object) -> tuple[dict, list[dict], list[str]]:
    """The summary, HDU documents and notes of a primary image with these cards, written and reread."""
    hdu = fits.PrimaryHDU(data.astype(np.float32))
    hdu.header.update(cards)
    path = tmp_path / "spectral.fits"
    hdu.writeto(path)
    documents = describe_file(path)
    notes: list[str] = []
    return observation_summary(documents, notes), documents, notes  # type: ignore[arg-type]


def astropy_spectrum(name: str) -> fits.Header:
    """One of astropy's WCS paper III test headers (the Orion-KL 13CO 1-0 spectrum by Mopra)."""
    with open(get_pkg_data_filename(f"data/spectra/{name}.hdr", package="astropy.wcs.tests")) as file:
        return fits.Header.fromstring(file.read())


def edges(header: fits.Header, n: int = 1) -> tuple[float, float]:
    """Axis n's linear values at the outer edges of its first and last pixels (FITS pixels 0.5, NAXISn + 0.5)."""
    crval, cdelt, crpix = header[f"CRVAL{n}"], header[f"CDELT{n}"], header[f"CRPIX{n}"]
    return crval + (0.5 - crpix) * cdelt, crval + (header[f"NAXIS{n}"] + 0.5 - crpix) * cdelt


def test_a_vrad_cube_with_restfrq_spans_its_channels_edges_in_wavelength(tmp_path):
    # An HI cube: 5 channels of 10 km/s from -100 km/s (channel 1's centre), radio velocity.
    summary, documents, notes = summary_of(
        tmp_path, np.zeros((5, 4, 3)), CTYPE1="RA---SIN", CTYPE2="DEC--SIN", CRVAL1=10.0, CRVAL2=20.0,
        CDELT1=-0.01, CDELT2=0.01, CRPIX1=2.0, CRPIX2=2.5, CTYPE3="VRAD", CUNIT3="km/s", CRVAL3=-100.0,
        CDELT3=10.0, CRPIX3=1.0, RESTFRQ=HI_21CM, SPECSYS="LSRK",
    )
    # Radio convention: nu = nu0 (1 - v/c), so lambda = c / (nu0 (1 - v/c)); edges at -105 and -55 km/s.
    shortest = C / (HI_21CM * (1 - (-105e3) / C))
    longest = C / (HI_21CM * (1 - (-55e3) / C))
    assert summary["em_min"] == pytest.approx(shortest, rel=1e-12)
    assert summary["em_max"] == pytest.approx(longest, rel=1e-12)
    assert summary["em_xel"] == 5
    assert summary["em_res_power"] is None  # lambda/dlambda of the channels is sampling, not resolution
    axis = documents[0]["spectral_axis"]
    assert (axis["ctype"], axis["axis"], axis["pixels"], axis["unit"], axis["specsys"]) == (
        "VRAD", 3, 5, "m s-1", "LSRK")
    assert axis["world"] == pytest.approx([-105e3, -55e3])
    assert notes == []


def test_a_velocity_axis_without_a_rest_frequency_gives_no_band_and_says_why(tmp_path):
    summary, documents, notes = summary_of(
        tmp_path, np.zeros((5, 4, 3)), CTYPE3="VRAD", CUNIT3="km/s", CRVAL3=-100.0, CDELT3=10.0, CRPIX3=1.0,
    )
    assert (summary["em_min"], summary["em_max"], summary["em_xel"]) == (None, None, None)
    reason = "Invalid parameter value. Missing required rest frequency or wavelength."  # wcslib's
    assert documents[0]["spectral_axis"]["error"] == reason
    assert notes == [f"summary: em_min/em_max not taken from HDU 0's spectral axis CTYPE3 = 'VRAD': {reason}"]


@pytest.mark.parametrize("name", ["orion-freq-1", "orion-freq-4"])
def test_astropys_frequency_spectrum(tmp_path, name):
    header = astropy_spectrum(name)
    shape = [header[f"NAXIS{n}"] for n in range(header["NAXIS"], 0, -1)]
    summary, _, _ = summary_of(tmp_path, np.zeros(shape), **{key: header[key] for key in header if key[:5] in (
        "CTYPE", "CRVAL", "CDELT", "CRPIX", "CUNIT", "RESTF", "RESTW", "SPECS", "RADES", "EQUIN")})
    # A linear frequency axis: lambda = c / nu, the longest wavelength at the lowest frequency.
    nu = edges(header)
    assert summary["em_min"] == pytest.approx(C / max(nu), rel=1e-12)
    assert summary["em_max"] == pytest.approx(C / min(nu), rel=1e-12)
    assert summary["em_xel"] == header["NAXIS1"] == 4096


def test_astropys_relativistic_velocity_spectrum(tmp_path):
    header = astropy_spectrum("orion-velo-4")
    summary, _, _ = summary_of(tmp_path, np.zeros((1, 1, 1, 4096)), **{
        key: header[key] for key in ("CTYPE1", "CRVAL1", "CDELT1", "CRPIX1", "CUNIT1", "RESTFRQ")})
    # VELO is linear in the relativistic velocity: nu = nu0 sqrt((c - v) / (c + v)).
    nu = [header["RESTFRQ"] * math.sqrt((C - v) / (C + v)) for v in edges(header)]
    assert [summary["em_min"], summary["em_max"]] == pytest.approx(sorted(C / f for f in nu), rel=1e-12)
    # The same spectrum as the frequency header describes, to within its channels' rounding.
    frequency = edges(astropy_spectrum("orion-freq-4"))
    assert summary["em_min"] == pytest.approx(C / max(frequency), rel=1e-7)


def test_astropys_wavelength_spectrum(tmp_path):
    header = astropy_spectrum("orion-wave-4")
    summary, _, _ = summary_of(tmp_path, np.zeros((1, 1, 1, 4096)), **{
        key: header[key] for key in ("CTYPE1", "CRVAL1", "CDELT1", "CRPIX1", "CUNIT1")})
    assert [summary["em_min"], summary["em_max"]] == pytest.approx(sorted(edges(header)), rel=1e-12)  # metres


def test_an_optical_velocity_axis_with_restwav(tmp_path):
    h_alpha = 6564.61e-10  # m, vacuum
    summary, _, _ = summary_of(tmp_path, np.zeros(50), CTYPE1="VOPT", CUNIT1="km/s", CRVAL1=0.0, CDELT1=20.0,
                               CRPIX1=25.5, RESTWAV=h_alpha)
    # Optical convention: lambda = lambda0 (1 + v/c); edges at (0.5 - 25.5) * 20 = -500 and +500 km/s.
    assert summary["em_min"] == pytest.approx(h_alpha * (1 - 500e3 / C), rel=1e-12)
    assert summary["em_max"] == pytest.approx(h_alpha * (1 + 500e3 / C), rel=1e-12)


def test_a_redshift_axis_with_restwav(tmp_path):
    lyman_alpha = 1215.67e-10
    summary, _, _ = summary_of(tmp_path, np.zeros(10), CTYPE1="ZOPT", CRVAL1=2.0, CDELT1=0.1, CRPIX1=1.0,
                               RESTWAV=lyman_alpha)
    # lambda = lambda0 (1 + z), z from 1.95 to 2.95.
    assert [summary["em_min"], summary["em_max"]] == pytest.approx(
        [lyman_alpha * 2.95, lyman_alpha * 3.95], rel=1e-12)


def test_an_air_wavelength_axis_is_given_in_vacuum(tmp_path):
    summary, _, _ = summary_of(tmp_path, np.zeros(100), CTYPE1="AWAV", CUNIT1="Angstrom", CRVAL1=5000.0,
                               CDELT1=1.0, CRPIX1=1.0)

    def vacuum(air_angstrom: float) -> float:
        """wcslib's refractive index of air (Edlen 1953, as in Cox 2000, Allen's Astrophysical Quantities):
        (n - 1) 1e8 = 6432.8 + 2949810 / (146 - s^2) + 25540 / (41 - s^2), s the wavenumber in 1/um."""
        s2 = (1e4 / air_angstrom) ** 2
        return air_angstrom * (1 + 1e-8 * (6432.8 + 2949810 / (146 - s2) + 25540 / (41 - s2))) * 1e-10

    # Edges at 4999.5 and 5099.5 A in air, about 1.4 A longer in vacuum.
    assert summary["em_min"] == pytest.approx(vacuum(4999.5), rel=1e-10)
    assert summary["em_max"] == pytest.approx(vacuum(5099.5), rel=1e-10)
    assert summary["em_min"] - 4999.5e-10 > 1.3e-10


def test_a_logarithmic_wavelength_axis(tmp_path):
    summary, _, _ = summary_of(tmp_path, np.zeros(1000), CTYPE1="WAVE-LOG", CUNIT1="Angstrom", CRVAL1=4000.0,
                               CDELT1=2.0, CRPIX1=1.0)
    # WCS paper III, eq. 5: lambda = lambda_r exp(w / lambda_r), w = (p - crpix) cdelt.
    assert summary["em_min"] == pytest.approx(4000e-10 * math.exp(-0.5 * 2.0 / 4000), rel=1e-12)
    assert summary["em_max"] == pytest.approx(4000e-10 * math.exp(999.5 * 2.0 / 4000), rel=1e-12)


def test_a_radio_continuum_images_one_channel_is_its_band(tmp_path):
    # NAXIS3 = 1: CDELT3 is the bandwidth, 128 MHz about 1.4 GHz (a VLA-like continuum image).
    summary, _, _ = summary_of(tmp_path, np.zeros((1, 1, 8, 8)), CTYPE1="RA---SIN", CTYPE2="DEC--SIN",
                               CTYPE3="FREQ", CRVAL3=1.4e9, CDELT3=1.28e8, CRPIX3=1.0, CUNIT3="Hz",
                               CTYPE4="STOKES", CRVAL4=1.0, CDELT4=1.0, CRPIX4=1.0)
    assert summary["em_min"] == pytest.approx(C / 1.464e9, rel=1e-12)
    assert summary["em_max"] == pytest.approx(C / 1.336e9, rel=1e-12)
    assert summary["em_xel"] == 1


def test_a_spectral_axis_beyond_naxis_is_one_pixel_wide(tmp_path):
    # A 2-D radio image whose WCS keeps its frequency as a third axis (WCSAXES = 3 > NAXIS = 2).
    summary, documents, _ = summary_of(tmp_path, np.zeros((8, 8)), WCSAXES=3, CTYPE1="RA---SIN",
                                       CTYPE2="DEC--SIN", CTYPE3="FREQ", CRVAL3=1.4e9, CDELT3=1.28e8, CRPIX3=1.0,
                                       CUNIT3="Hz")
    assert documents[0]["spectral_axis"]["pixels"] == 1
    assert [summary["em_min"], summary["em_max"]] == pytest.approx([C / 1.464e9, C / 1.336e9], rel=1e-12)


def test_an_energy_axis(tmp_path):
    summary, _, _ = summary_of(tmp_path, np.zeros(100), CTYPE1="ENER", CUNIT1="keV", CRVAL1=0.505, CDELT1=0.01,
                               CRPIX1=1.0)
    hc = 6.62607015e-34 * C  # J m
    kev = 1.602176634e-16  # J
    assert summary["em_min"] == pytest.approx(hc / (1.50 * kev), rel=1e-9)
    assert summary["em_max"] == pytest.approx(hc / (0.50 * kev), rel=1e-9)


def test_a_tabular_axis_is_not_read_and_says_so(tmp_path):
    summary, documents, notes = summary_of(tmp_path, np.zeros(10), CTYPE1="WAVE-TAB", PS1_0="WCS-TAB",
                                           PS1_1="WAVELENGTH")
    assert (summary["em_min"], summary["em_max"]) == (None, None)
    assert "table in another HDU" in documents[0]["spectral_axis"]["error"]
    assert len(notes) == 1 and "CTYPE1 = 'WAVE-TAB'" in notes[0]


def test_an_axis_wcslib_refuses_is_described_with_its_error(tmp_path):
    summary, documents, notes = summary_of(tmp_path, np.zeros(10), CTYPE1="FREQ", CRVAL1=1.4e9, CDELT1=0.0,
                                           CRPIX1=1.0)
    axis = documents[0]["spectral_axis"]
    assert (axis["world"], axis["wavelength_m"], summary["em_min"], summary["em_max"]) == (None, None, None, None)
    assert "singular" in axis["error"]
    assert notes == [f"summary: em_min/em_max not taken from HDU 0's spectral axis CTYPE1 = 'FREQ': {axis['error']}"]


def test_images_without_a_spectral_axis_have_none(tmp_path):
    _, documents, _ = summary_of(tmp_path, np.zeros((4, 4)), CTYPE1="RA---TAN", CTYPE2="DEC--TAN")
    assert documents[0]["spectral_axis"] is None


def test_the_wcs_axis_comes_before_a_keyword(tmp_path):
    summary, _, _ = summary_of(tmp_path, np.zeros(10), CTYPE1="WAVE", CUNIT1="nm", CRVAL1=500.0, CDELT1=1.0,
                               CRPIX1=1.0, WAVELNTH=171, WAVEUNIT="angstrom")
    assert [summary["em_min"], summary["em_max"]] == pytest.approx([499.5e-9, 509.5e-9], rel=1e-12)
