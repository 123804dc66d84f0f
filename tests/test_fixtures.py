"""The committed fixtures: rebuilt byte for byte by the code, and what fixtures/README.md says they are."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from pathlib import Path
from urllib.parse import unquote_plus

import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.time import Time
from astropy.wcs import WCS
from astropy.wcs.utils import proj_plane_pixel_scales

from fixtures import builders, generate

from .support import DRIZZLE, EVENTS, FIXTURES, committed_event

KEY = "obs/hag_j004524.96+403851.8_j8hpdcaoq_v01.drizzle.fits"
ENCODED_KEY = "obs/hag_j004524.96%2B403851.8_j8hpdcaoq_v01.drizzle.fits"
FITS_NAMES = sorted(generate.FITS_FILES)
EVENT_NAMES = sorted(p.name for p in EVENTS.glob("*.json"))


def layout(hdul: fits.HDUList) -> list[tuple]:
    """(name, class name, shape, dtype) of every HDU, as the README's table lists them."""
    return [
        (hdu.name, type(hdu).__name__, hdu.shape, hdu.data.dtype.name if hdu.shape else None)
        for hdu in hdul
    ]


def centre_world(header: fits.Header) -> SkyCoord:
    """The sky position of the centre of the image the header describes."""
    wcs = WCS(header).celestial
    nx, ny = wcs.pixel_shape
    return wcs.pixel_to_world((nx - 1) / 2, (ny - 1) / 2)


def assert_near(coord: SkyCoord, ra: float, dec: float, arcsec: float = 1e-3) -> None:
    """``coord`` is within ``arcsec`` of (ra, dec) given in its own frame (ICRS or FK5)."""
    expected = SkyCoord(ra, dec, unit="deg", frame=coord.frame.replicate_without_data())
    assert coord.separation(expected).arcsec < arcsec


# Reproducibility


def test_regeneration_is_byte_identical(tmp_path: Path) -> None:
    generate.write(tmp_path)
    assert generate.differing(FIXTURES, tmp_path) == []


def test_check_passes_on_the_committed_files() -> None:
    assert generate.main(["--check"]) == 0


def test_check_names_a_file_that_differs(tmp_path: Path, monkeypatch, capsys) -> None:
    committed = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, committed)
    target = committed / "cube.fits"
    data = bytearray(target.read_bytes())
    data[-1] ^= 0xFF
    target.write_bytes(bytes(data))
    monkeypatch.setattr(generate, "FIXTURES_DIR", committed)
    assert generate.main(["--check"]) == 1
    assert "fixtures/cube.fits" in capsys.readouterr().err


def test_every_committed_fixture_is_generated() -> None:
    suffixes = {".fits", ".gz", ".fz", ".json"}
    on_disk = {p.relative_to(FIXTURES).as_posix() for p in FIXTURES.rglob("*") if p.suffix in suffixes}
    assert on_disk == set(generate.render())


def test_committed_fits_files_are_small() -> None:
    sizes = [(FIXTURES / name).stat().st_size for name in FITS_NAMES]
    assert max(sizes) < 256 * 1024
    assert sum(sizes) < 640 * 1024


@pytest.mark.parametrize("name", FITS_NAMES)
def test_no_card_records_when_the_file_was_written(name: str) -> None:
    with fits.open(FIXTURES / name, disable_image_compression=True) as hdul:
        for hdu in hdul:
            assert not {"DATE", "CHECKSUM", "DATASUM"} & set(hdu.header), hdu.name


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("name", FITS_NAMES)
def test_fits_files_verify_and_their_wcs_need_no_fixes(name: str) -> None:
    with fits.open(FIXTURES / name) as hdul:
        hdul.verify("exception")
        for hdu in hdul:
            if hdu.is_image and "CTYPE1" in hdu.header:
                WCS(hdu.header)


@pytest.mark.parametrize("name", FITS_NAMES)
def test_readme_lists_every_fits_file(name: str) -> None:
    assert f"`{name}`" in (FIXTURES / "README.md").read_text()


# The drizzle file


def test_drizzle_has_the_hla_layout() -> None:
    with fits.open(DRIZZLE) as hdul:
        assert layout(hdul) == [
            ("PRIMARY", "PrimaryHDU", (), None),
            ("SCI_F850LP", "ImageHDU", (100, 100), "float32"),
            ("WHT_F850LP", "ImageHDU", (100, 100), "float32"),
        ]
        assert hdul[0].header["NAXIS"] == 0


def test_drizzle_primary_describes_the_observation() -> None:
    header = fits.getheader(DRIZZLE, 0)
    expected = {
        "TELESCOP": "HST",
        "INSTRUME": "ACS",
        "DETECTOR": "WFC",
        "TARGNAME": "ANDROMEDA",
        "RA_TARG": 11.354,
        "DEC_TARG": 40.6477,
        "FILTER1": "F850LP",
        "EXPTIME": 1360.0,
    }
    assert {k: header[k] for k in expected} == expected
    assert len(header["COMMENT"]) >= 1 and len(header["HISTORY"]) >= 1
    start = Time(header["EXPSTART"], format="mjd", scale="utc")
    assert abs((start - Time(f"{header['DATE-OBS']}T{header['TIME-OBS']}")).sec) < 1
    assert (header["EXPEND"] - header["EXPSTART"]) * 86400 >= header["EXPTIME"]


def test_drizzle_name_encodes_the_target() -> None:
    named = SkyCoord("00h45m24.96s +40d38m51.8s", frame="icrs")
    assert_near(named, 11.354, 40.6477, arcsec=0.1)


@pytest.mark.parametrize("extension", ["SCI_F850LP", "WHT_F850LP"])
def test_drizzle_images_have_a_tan_wcs_on_the_target(extension: str) -> None:
    header = fits.getheader(DRIZZLE, extension)
    assert (header["CTYPE1"], header["CTYPE2"]) == ("RA---TAN", "DEC--TAN")
    assert_near(centre_world(header), 11.354, 40.6477)
    assert np.allclose(proj_plane_pixel_scales(WCS(header)) * 3600, 0.05)
    assert "BUNIT" in header


def test_drizzle_science_is_a_star_field_and_weights_are_positive() -> None:
    with fits.open(DRIZZLE) as hdul:
        science, weight = hdul["SCI_F850LP"].data, hdul["WHT_F850LP"].data
        assert np.isfinite(science).all()
        assert abs(np.median(science) - 0.12) < 0.02
        assert science.max() > 0.12 + 20 * 0.02
        assert (weight > 0).all()
        assert set(np.unique(weight)) == {680.0, 1360.0}


# Orientation, compression, tables, cubes, scaling, blanks


def test_wcs_image_has_its_orientation_features_where_the_docstring_says() -> None:
    with fits.open(FIXTURES / "wcs_image.fits") as hdul:
        assert layout(hdul) == [("PRIMARY", "PrimaryHDU", (200, 300), "float32")]
        data = hdul[0].data
        assert_near(centre_world(hdul[0].header), 150.1191, 2.2058)
    assert (data[:20, :30] == 600).all()
    ramp = np.tile(np.arange(300, dtype=np.float32), (200, 1))
    outside = np.ones(data.shape, dtype=bool)
    outside[:20, :30] = False
    assert (data[outside] == ramp[outside]).all()
    assert data[outside].max() < 600


def test_wcs_image_features_scale_with_the_shape() -> None:
    data = builders.wcs_image((50, 70))[0].data
    assert data.shape == (50, 70)
    assert (data[:5, :7] == 140).all() and data[5, 7] == 7 and data[-1, -1] == 69


def test_tile_compressed_is_rice_compressed_and_lossless() -> None:
    path = FIXTURES / "tile_compressed.fits.fz"
    with fits.open(path) as hdul:
        assert layout(hdul) == [
            ("PRIMARY", "PrimaryHDU", (), None),
            ("SCI", "CompImageHDU", (256, 256), "int16"),
        ]
        assert isinstance(hdul[1], fits.CompImageHDU)
        assert (hdul[1].data == builders.tile_compressed()[1].data).all()
        assert_near(centre_world(hdul[1].header), 54.6209, -35.4507)
    with fits.open(path, disable_image_compression=True) as raw:
        assert isinstance(raw[1], fits.BinTableHDU)
        assert raw[1].header["ZIMAGE"] is True
        assert raw[1].header["ZCMPTYPE"] == "RICE_1"
    assert path.stat().st_size < 256 * 256 * 2


def test_gzip_image_is_a_reproducible_whole_file_gzip() -> None:
    path = FIXTURES / "gzip_image.fits.gz"
    data = path.read_bytes()
    assert data[:3] == b"\x1f\x8b\x08"
    assert data[3] & 0x08 == 0, "FNAME flag: a file name is stored in the header"
    assert data[4:8] == b"\x00\x00\x00\x00", "MTIME is not 0"
    assert gzip.decompress(data).startswith(b"SIMPLE  =")
    with fits.open(path) as hdul:
        assert layout(hdul) == [("PRIMARY", "PrimaryHDU", (64, 64), "float32")]
        assert_near(centre_world(hdul[0].header), 202.4696, 47.1952)


def test_bintable_columns() -> None:
    with fits.open(FIXTURES / "bintable.fits") as hdul:
        kinds = [(h.name, type(h).__name__) for h in hdul]
        assert kinds == [("PRIMARY", "PrimaryHDU"), ("CATALOG", "BinTableHDU")]
        table = hdul["CATALOG"]
        assert table.data.shape == (100,)
        columns = table.columns
        assert columns.names == ["NAME", "ID", "RA", "DEC", "MAG", "PROFILE", "FLAG"]
        assert columns.formats == ["16A", "J", "D", "D", "E", "12E", "L"]
        assert (columns["RA"].unit, columns["DEC"].unit, columns["MAG"].unit) == ("deg", "deg", "mag")
        assert columns["PROFILE"].dim == "(4,3)"
        rows = table.data
        assert rows["NAME"][0] == "SRC-00000"
        assert rows["ID"].tolist() == list(range(1, 101))
        assert rows["RA"].dtype.kind == "f" and rows["RA"].dtype.itemsize == 8
        assert rows["PROFILE"].shape == (100, 3, 4)
        assert rows["PROFILE"][1, 0].tolist() == [12.0, 13.0, 14.0, 15.0]
        assert rows["FLAG"].dtype == bool and rows["FLAG"].sum() == 15
        assert np.all(np.abs(rows["RA"] - 11.354) < 1e-3)


def test_cube_planes_are_told_apart_by_their_block() -> None:
    with fits.open(FIXTURES / "cube.fits") as hdul:
        assert layout(hdul) == [("PRIMARY", "PrimaryHDU", (5, 64, 48), "float32")]
        data, header = hdul[0].data, hdul[0].header
    for k, (row, col) in enumerate(zip((0, 14, 29, 43, 58), (0, 10, 21, 31, 42), strict=True)):
        plane = data[k]
        block = np.zeros(plane.shape, dtype=bool)
        block[row : row + 6, col : col + 6] = True
        assert (plane[block] == 100 + 10 * k).all()
        assert (plane[~block] == k).all()
    wcs = WCS(header)
    assert wcs.naxis == 3 and wcs.has_celestial
    assert wcs.wcs.ctype[2] == "FREQ" and wcs.wcs.spec == 2
    assert_near(centre_world(header), 114.2142, 65.6026)


def test_scaled_int_stores_integers_with_bzero_and_bscale() -> None:
    path = FIXTURES / "scaled_int.fits"
    with fits.open(path, do_not_scale_image_data=True) as raw:
        stored = [(h.header["BITPIX"], h.header["BZERO"], h.header.get("BSCALE", 1)) for h in raw]
        assert stored == [(16, 32768, 1), (16, 100.0, 0.5)]
        assert raw[1].data.min() == -768 and raw[1].data.max() == 767
    with fits.open(path) as hdul:
        assert [h.name for h in hdul] == ["PRIMARY", "SCALED"]
        unsigned, scaled = hdul[0].data, hdul["SCALED"].data
        assert unsigned.dtype == np.uint16 and unsigned.shape == (64, 64)
        assert (unsigned.min(), unsigned.max()) == (0, 65535)
        assert scaled.dtype == np.float32 and scaled.shape == (32, 48)
        assert (scaled == 100 + 0.5 * np.arange(-768, 768).reshape(32, 48)).all()


def test_nans_has_a_nan_corner_an_all_nan_and_a_constant_extension() -> None:
    with fits.open(FIXTURES / "nans.fits") as hdul:
        assert layout(hdul) == [
            ("PRIMARY", "PrimaryHDU", (64, 64), "float32"),
            ("ALLNAN", "ImageHDU", (32, 32), "float32"),
            ("CONSTANT", "ImageHDU", (32, 32), "float32"),
        ]
        corner = np.zeros((64, 64), dtype=bool)
        corner[:16, :24] = True
        assert (np.isnan(hdul[0].data) == corner).all()
        assert np.isnan(hdul["ALLNAN"].data).all()
        assert (hdul["CONSTANT"].data == 7.5).all()


# Builders at other sizes


def test_star_field_is_deterministic_per_seed() -> None:
    first = builders.star_field((40, 60), seed=9)
    assert first.dtype == np.float32 and first.shape == (40, 60)
    assert (first == builders.star_field((40, 60), seed=9)).all()
    assert not (first == builders.star_field((40, 60), seed=10)).all()


def test_builders_take_large_sizes() -> None:
    drizzle = builders.drizzle_like(shape=(600, 900))
    assert [h.shape for h in drizzle] == [(), (600, 900), (600, 900)]
    assert_near(centre_world(drizzle[1].header), 11.354, 40.6477)
    assert builders.cube(shape=(3, 80, 40))[0].data[2, 75:80, 35:40].min() == 120
    assert builders.bintable(rows=5000)[1].data.shape == (5000,)


# Events


TOP_LEVEL_KEYS = {
    "s3_object_created.json": {"Records"},
    "s3_test_event.json": {"Service", "Event", "Time", "Bucket", "RequestId", "HostId"},
    "s3_object_removed.json": {"Records"},
    "sqs_s3.json": {"Records"},
    "sqs_s3_test_event.json": {"Records"},
    "sns_s3.json": {"Records"},
    "sqs_sns_s3.json": {"Records"},
    "eventbridge_object_created.json": {
        "version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail",
    },
    "sqs_eventbridge.json": {"Records"},
    "s3_batch_v1.json": {"invocationSchemaVersion", "invocationId", "job", "tasks"},
    "s3_batch_v2.json": {"invocationSchemaVersion", "invocationId", "job", "tasks"},
    "uris.json": {"uris"},
}


def test_every_promised_event_file_exists() -> None:
    assert EVENT_NAMES == sorted(TOP_LEVEL_KEYS)


@pytest.mark.parametrize("name", EVENT_NAMES)
def test_event_parses_with_its_top_level_shape(name: str) -> None:
    assert set(committed_event(name)) == TOP_LEVEL_KEYS[name]


@pytest.mark.parametrize("name", EVENT_NAMES)
def test_events_readme_describes_every_file(name: str) -> None:
    assert f"`{name}`" in (EVENTS / "README.md").read_text()


def s3_records(name: str) -> list[dict]:
    """The S3 notification records inside an event file, through SQS and SNS envelopes."""
    event = committed_event(name)
    if name.startswith("sqs_sns_"):
        return [r for m in event["Records"] for r in json.loads(json.loads(m["body"])["Message"])["Records"]]
    if name.startswith("sqs_"):
        return [r for m in event["Records"] for r in json.loads(m["body"])["Records"]]
    if name.startswith("sns_"):
        return [r for m in event["Records"] for r in json.loads(m["Sns"]["Message"])["Records"]]
    return event["Records"]


@pytest.mark.parametrize("name", ["s3_object_created.json", "sqs_s3.json", "sns_s3.json", "sqs_sns_s3.json"])
def test_s3_notification_keys_are_form_encoded(name: str) -> None:
    records = s3_records(name)
    assert records[0]["s3"]["object"]["key"] == ENCODED_KEY
    assert unquote_plus(ENCODED_KEY) == KEY
    for record in records:
        assert record["eventSource"] == "aws:s3"
        assert record["eventName"] == "ObjectCreated:Put"
        assert record["s3"]["bucket"]["name"] == "fits-inbox"
        assert {"key", "size", "eTag", "versionId", "sequencer"} <= set(record["s3"]["object"])


def test_sqs_s3_has_two_messages_and_a_space_encoded_as_plus() -> None:
    messages = committed_event("sqs_s3.json")["Records"]
    assert len({m["messageId"] for m in messages}) == 2
    for message in messages:
        assert message["eventSource"] == "aws:sqs"
        assert message["md5OfBody"] == hashlib.md5(message["body"].encode()).hexdigest()
    keys = [r["s3"]["object"]["key"] for r in s3_records("sqs_s3.json")]
    assert keys == [ENCODED_KEY, "obs/night+2/wcs_image.fits"]
    assert unquote_plus(keys[1]) == "obs/night 2/wcs_image.fits"


def test_object_removed_has_no_size_or_etag() -> None:
    (record,) = committed_event("s3_object_removed.json")["Records"]
    assert record["eventName"] == "ObjectRemoved:Delete"
    assert set(record["s3"]["object"]) == {"key", "versionId", "sequencer"}
    assert record["s3"]["object"]["key"] == ENCODED_KEY


def test_test_events_direct_and_through_sqs() -> None:
    direct = committed_event("s3_test_event.json")
    (message,) = committed_event("sqs_s3_test_event.json")["Records"]
    assert direct["Event"] == "s3:TestEvent" and direct["Bucket"] == "fits-inbox"
    assert json.loads(message["body"]) == direct


def test_sns_envelopes() -> None:
    (record,) = committed_event("sns_s3.json")["Records"]
    assert record["EventSource"] == "aws:sns"
    assert record["Sns"]["Type"] == "Notification" and "SigningCertUrl" in record["Sns"]
    (message,) = committed_event("sqs_sns_s3.json")["Records"]
    envelope = json.loads(message["body"])
    assert envelope["Type"] == "Notification" and "SigningCertURL" in envelope
    assert message["body"].startswith('{\n  "Type" : "Notification",')


def test_eventbridge_keys_are_not_encoded() -> None:
    direct = committed_event("eventbridge_object_created.json")
    (message,) = committed_event("sqs_eventbridge.json")["Records"]
    assert json.loads(message["body"]) == direct
    assert (direct["source"], direct["detail-type"]) == ("aws.s3", "Object Created")
    assert direct["detail"]["bucket"]["name"] == "fits-inbox"
    assert direct["detail"]["object"]["key"] == KEY
    assert {"size", "etag", "version-id", "sequencer"} <= set(direct["detail"]["object"])


def test_batch_operations_schemas() -> None:
    v1, v2 = committed_event("s3_batch_v1.json"), committed_event("s3_batch_v2.json")
    assert v1["invocationSchemaVersion"] == "1.0" and v2["invocationSchemaVersion"] == "2.0"
    (task1,), (task2,) = v1["tasks"], v2["tasks"]
    assert task1["s3BucketArn"] == "arn:aws:s3:::fits-inbox" and "s3Bucket" not in task1
    assert task2["s3Bucket"] == "fits-inbox" and "s3BucketArn" not in task2
    assert task1["s3Key"] == task2["s3Key"] == ENCODED_KEY
    assert task2["s3VersionId"] is None
    assert isinstance(v2["job"]["userArguments"], dict)


def test_uris_are_s3_uris_with_keys_as_written() -> None:
    uris = committed_event("uris.json")["uris"]
    assert uris[0] == f"s3://fits-inbox/{KEY}"
    assert all(uri.startswith("s3://fits-inbox/") for uri in uris)
