"""The record as a whole: the standard's 30 columns with their types, and the deployment's columns
(access, identifier, collection, calibration level) from the source and the configuration.
"""

from __future__ import annotations

import gzip
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from astropy.io import fits
from astropy.utils.data import get_pkg_data_filename

from handlers import ingest
from handlers.cli.main import main as cli
from handlers.config import DeploymentSettings, Settings
from handlers.errors import ConfigurationError
from handlers.fits.hdu import describe_hdu
from handlers.obscore.columns import COLUMNS, FILTER
from handlers.obscore.observable import unit_ucd
from handlers.obscore.record import observation_summary

from .support import DRIZZLE, INBOX, ROOT, read_json, upload

KEY = "obs/hag j004524 (v01)?.drizzle.fits"  # a key with characters a URI must encode
#: Python's types of each ADQL type's values in the JSON document.
PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "VARCHAR": (str,), "CLOB": (str,), "REGION": (str,), "INTEGER": (int,), "BIGINT": (int,), "DOUBLE": (float,),
}


def stis() -> str:
    return get_pkg_data_filename("io/fits/tests/data/o4sp040b0_raw.fits", package="astropy")


def record_of(path: str | Path, **options: Any) -> dict[str, Any]:
    with fits.open(path) as hdul:
        return dict(observation_summary([describe_hdu(index, hdu) for index, hdu in enumerate(hdul)], **options))


def processed(s3: Any, context: Any, key: str = KEY, body: Path = DRIZZLE) -> tuple[dict[str, Any], dict[str, Any]]:
    """Upload ``body``, run the handler on its URI; the summary written and the upload's HEAD."""
    head = upload(s3, key, body)
    outcome = ingest.handler({"uris": [f"s3://{INBOX}/{key}"]}, context)["outcomes"][0]
    assert outcome["status"] == "processed", outcome
    return read_json(s3, f"metadata/{key}.json")["summary"], head


def test_the_record_has_the_standards_30_columns_with_their_types(s3: Any, context: Any) -> None:
    summary, _ = processed(s3, context)

    assert list(summary) == [column.name for column in COLUMNS] + ["filter"]
    assert len(COLUMNS) == 30
    given = {name for name, value in summary.items() if value is not None}
    # what the drizzled ACS file says (its s_*, t_* and names) and what its source says (access_*)
    assert given >= {"dataproduct_type", "obs_collection", "obs_id", "access_url", "access_format", "access_estsize",
                     "target_name", "s_ra", "s_dec", "s_fov", "s_region", "t_min", "t_max", "t_exptime", "o_ucd",
                     "facility_name", "instrument_name", "filter"}
    for column in (*COLUMNS, FILTER):
        value = summary[column.name]
        if value is not None:
            assert isinstance(value, PYTHON_TYPES[column.datatype]) and not isinstance(value, bool), column


def test_every_column_has_a_row_of_the_readme_with_its_unit() -> None:
    section = (ROOT / "README.md").read_text().split("### The `summary`", 1)[1].split("\n#", 1)[0]
    rows = dict(re.findall(r"^\| `(\w+)` \| [^|\n]+ \| ([^|\n]*) \|$", section, re.M))
    assert list(rows) == [column.name for column in (*COLUMNS, FILTER)]
    for column in (*COLUMNS, FILTER):
        assert rows[column.name].strip() == (f"`{column.unit}`" if column.unit else "—"), column.name


# -- access ---------------------------------------------------------------------------------------


def test_access_url_is_the_s3_uri_of_the_version_read(s3: Any, context: Any) -> None:
    summary, head = processed(s3, context)

    encoded = "obs/hag%20j004524%20(v01)%3F.drizzle.fits"  # space and '?' encoded, '/' and '()' kept
    assert summary["access_url"] == f"s3://{INBOX}/{encoded}?versionId={head['VersionId']}"
    assert summary["access_estsize"] == math.ceil(DRIZZLE.stat().st_size / 1000)  # 89280 bytes: 90 kB
    assert (summary["access_format"], summary["obs_publisher_did"]) == ("application/fits", None)
    assert summary["calib_level"] is None  # no keyword, no configured default


def test_the_deployment_gives_did_url_collection_and_calib_level(
    s3: Any, context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OBSCORE_PUBLISHER_DID", "ivo://example.org/hla?{key}")
    monkeypatch.setenv("OBSCORE_ACCESS_URL", "https://{bucket}.s3.amazonaws.com/{key}")
    monkeypatch.setenv("OBSCORE_COLLECTION", "HLA")
    monkeypatch.setenv("OBSCORE_CALIB_LEVEL", "3")

    summary, _ = processed(s3, context, key="obs/j8hpdcaoq.fits")

    assert summary["obs_publisher_did"] == "ivo://example.org/hla?obs/j8hpdcaoq.fits"
    assert summary["access_url"] == f"https://{INBOX}.s3.amazonaws.com/obs/j8hpdcaoq.fits"
    assert (summary["obs_collection"], summary["facility_name"]) == ("HLA", "HST")  # TELESCOP still the facility
    assert summary["calib_level"] == 3


def test_a_local_gzipped_file_through_the_cli(tmp_path: Path) -> None:
    path = tmp_path / "stis.fits.gz"
    path.write_bytes(gzip.compress(Path(stis()).read_bytes(), mtime=0))

    assert cli(["process", str(path), "--out", str(tmp_path / "out")]) == 0

    summary = json.loads((tmp_path / "out" / "metadata" / "stis.fits.gz.json").read_text())["summary"]
    assert summary["access_url"] == str(path.resolve())
    assert summary["access_format"] == "application/fits+gzip"
    assert summary["access_estsize"] == math.ceil(path.stat().st_size / 1000)  # the stored, compressed size
    assert (summary["dataproduct_type"], summary["calib_level"], summary["o_ucd"]) == ("spectrum", 1, "phot.count")


#: Settings refused, and what the refusal says.
REFUSED = {
    "OBSCORE_PUBLISHER_DID=ivo://example.org/x?{path}": "OBSCORE_PUBLISHER_DID may name only",
    "OBSCORE_ACCESS_URL=https://{bucket": "OBSCORE_ACCESS_URL is not a template",
    "OBSCORE_ACCESS_URL=https://x/{}": "OBSCORE_ACCESS_URL may name only",
    "OBSCORE_CALIB_LEVEL=5": "OBSCORE_CALIB_LEVEL must be one of 0..4",
    "OBSCORE_CALIB_LEVEL=raw": "OBSCORE_CALIB_LEVEL must be an integer",
}


@pytest.mark.parametrize("setting", REFUSED)
def test_bad_deployment_settings_are_refused_by_name(setting: str) -> None:
    name, value = setting.split("=", 1)
    with pytest.raises(ConfigurationError, match=re.escape(REFUSED[setting])):
        Settings.from_env({name: value})


def test_without_a_source_the_access_columns_are_null_but_the_format() -> None:
    record = record_of(stis())
    assert {key: record[key] for key in ("obs_publisher_did", "access_url", "access_format", "access_estsize")} == {
        "obs_publisher_did": None, "access_url": None, "access_format": "application/fits", "access_estsize": None}


# -- calib_level ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cards", "default", "level"),
    [
        ({"CALIBLEV": 2}, None, 2),
        ({"CALIBLEV": 0, "FLATCORR": "COMPLETE"}, 4, 0),  # the keyword's word first
        ({"DRIZCORR": "COMPLETE", "FLATCORR": "COMPLETE"}, None, 3),  # HST drizzled (drz)
        ({"FLATCORR": "COMPLETE"}, None, 2),  # HST flat-fielded (flt)
        ({"FLATCORR": "PERFORM"}, None, 1),  # HST raw: to be calibrated, but FITS already
        ({"FLATCORR": "OMIT"}, 2, 2),
        ({}, 4, 4),
        ({}, None, None),
    ],
)
def test_calib_level_from_keywords_else_the_default(
    cards: dict[str, Any], default: int | None, level: int | None
) -> None:
    hdus = [describe_hdu(0, fits.PrimaryHDU(header=fits.Header(cards)))]
    record = observation_summary(hdus, deployment=DeploymentSettings(calib_level=default))
    assert record["calib_level"] == level


def test_a_bad_caliblev_gives_way_to_the_default_with_a_warning() -> None:
    notes: list[str] = []
    hdus = [describe_hdu(0, fits.PrimaryHDU(header=fits.Header({"CALIBLEV": 7})))]
    assert observation_summary(hdus, notes, deployment=DeploymentSettings(calib_level=1))["calib_level"] == 1
    assert notes == ["summary: CALIBLEV=7 is not an ObsCore calibration level (0 to 4): not used"]


def test_stis_raw_file_is_level_1() -> None:
    """astropy's o4sp040b0_raw.fits: FLATCORR = 'PERFORM' (calstis has not run)."""
    assert record_of(stis())["calib_level"] == 1


# -- o_ucd and polarization -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("unit", "ucd"),
    [
        ("COUNTS", "phot.count"), ("DN", "phot.count"), ("ELECTRONS/S", "phot.count"), ("counts s-1", "phot.count"),
        ("adu", "phot.count"), ("erg/s/cm2/Angstrom", "phot.flux.density"), ("Jy", "phot.flux.density"),
        ("Jy/beam", "phot.flux.density"), ("MJy/sr", "phot.flux.density"), ("W m-2 nm-1", "phot.flux.density"),
        ("W/m2", "phot.flux"), ("erg/cm2/s", "phot.flux"), ("mag", "phot.mag"),
        ("K", None), ("km/s", None), ("Angstrom", None), ("not a unit", None),
    ],
)
def test_the_observables_ucd_from_its_unit(unit: str, ucd: str | None) -> None:
    assert unit_ucd(unit) == ucd


def stokes_image(tmp_path: Path, length: int, crval: float, cdelt: float, crpix: float = 1.0) -> Path:
    header = fits.Header({"CTYPE1": "RA---SIN", "CTYPE2": "DEC--SIN", "CTYPE3": "STOKES", "CRVAL3": crval,
                          "CDELT3": cdelt, "CRPIX3": crpix, "BUNIT": "JY/BEAM"})
    path = tmp_path / "stokes.fits"
    fits.PrimaryHDU(np.zeros((length, 8, 8), np.float32), header).writeto(path, overwrite=True)
    return path


@pytest.mark.parametrize(
    ("length", "crval", "cdelt", "crpix", "states"),
    [
        (4, 1.0, 1.0, 1.0, "/I/Q/U/V/"),  # codes 1, 2, 3, 4
        (4, 4.0, -1.0, 1.0, "/I/Q/U/V/"),  # 4, 3, 2, 1: listed in ObsCore's order
        (1, 1.0, 1.0, 1.0, "/I/"),
        (2, -5.0, -1.0, 1.0, "/XX/YY/"),  # -5, -6
        (2, -1.0, -1.0, 1.0, "/RR/LL/"),
        (2, 3.0, 1.0, 2.0, "/Q/U/"),  # CRPIX 2: pixel 1 is code 2
    ],
)
def test_pol_states_from_a_stokes_axis(
    tmp_path: Path, length: int, crval: float, cdelt: float, crpix: float, states: str
) -> None:
    record = record_of(stokes_image(tmp_path, length, crval, cdelt, crpix))
    assert (record["pol_states"], record["pol_xel"]) == (states, length)
    assert record["o_ucd"] == "phot.flux.density"  # JY/BEAM


def test_unknown_stokes_codes_are_null_and_a_warning(tmp_path: Path) -> None:
    notes: list[str] = []
    record = record_of(stokes_image(tmp_path, 2, 11.0, 1.0), notes=notes)
    assert (record["pol_states"], record["pol_xel"]) == (None, None)
    assert notes == ["summary: CTYPE3='STOKES' with CRVAL3=11.0 CDELT3=1.0 CRPIX3=1.0 "
                     "gives codes [11.0, 12.0] that are not Stokes or correlation codes: not used"]


def test_no_stokes_axis_is_no_polarization() -> None:
    record = record_of(stis())
    assert (record["pol_states"], record["pol_xel"]) == (None, None)
