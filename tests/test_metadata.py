"""describe_hdu, cards_to_json and celestial_wcs on FITS files written and reopened here."""

from __future__ import annotations

import io
import json
import logging
import math
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from astropy.io.fits.hdu.base import ExtensionHDU
from astropy.utils.exceptions import AstropyUserWarning
from astropy.wcs import WCS

from handlers.config import ReadSettings, Settings
from handlers.deadline import Deadline
from handlers.fits.cards import cards_to_json, header_cards
from handlers.fits.extract import extract
from handlers.fits.hdu import describe_hdu
from handlers.fits.opening import scan_header
from handlers.fits.wcs import celestial_wcs
from handlers.storage.reader import RangeReader

RA, DEC = 11.354, 40.6477
SCALE = 0.05 / 3600  # degrees per pixel


def tan_cards(ra: float = RA, dec: float = DEC, crpix: tuple[float, float] = (50.5, 50.5)) -> dict:
    """A TAN WCS rotated by 30 degrees, centred on (ra, dec) at crpix, 0.05"/pixel."""
    cos, sin = math.cos(math.radians(30)), math.sin(math.radians(30))
    return {
        "WCSAXES": 2, "CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CUNIT1": "deg", "CUNIT2": "deg",
        "CRVAL1": ra, "CRVAL2": dec, "CRPIX1": crpix[0], "CRPIX2": crpix[1], "RADESYS": "ICRS",
        "CD1_1": -SCALE * cos, "CD1_2": SCALE * sin, "CD2_1": SCALE * sin, "CD2_2": SCALE * cos,
    }


def write(tmp_path: Path, *hdus: ExtensionHDU, primary: fits.PrimaryHDU | None = None) -> Path:
    path = tmp_path / "test.fits"
    fits.HDUList([primary or fits.PrimaryHDU(), *hdus]).writeto(path)
    return path


def describe_file(path: Path) -> list[dict]:
    """Every HDU's document, from a lazily reopened file, as it goes through JSON; each header
    is given as written, as the pipeline gives it."""
    raw = io.BytesIO(path.read_bytes())
    with fits.open(path) as hdul:
        docs = [describe_hdu(index, hdu, scan_header(raw, hdu.fileinfo()["hdrLoc"], 10_000))
                for index, hdu in enumerate(hdul)]
    return json.loads(json.dumps(docs, allow_nan=False))


def raw_header_file(tmp_path: Path, *cards: str) -> Path:
    """A primary HDU whose header is exactly these card images, bytes as given."""
    images = ["SIMPLE  =                    T", "BITPIX  =                    8",
              "NAXIS   =                    0", *cards, "END"]
    raw = b"".join(card.encode("latin-1").ljust(80) for card in images)
    path = tmp_path / "raw.fits"
    path.write_bytes(raw.ljust(2880 * math.ceil(len(raw) / 2880)))
    return path


def test_every_card_is_kept_in_order(tmp_path):
    path = raw_header_file(
        tmp_path,
        "TELESCOP= 'HST     '           / telescope used",
        "COMMENT a comment card",
        "HISTORY a history card",
        "",
        "HIERARCH ESO DET CHIP NAME = 'ccd1    ' / hierarch keyword",
        "LONGSTR = '" + "x" * 67 + "&'",
        "CONTINUE  '" + "y" * 30 + "&'",
        "CONTINUE  '' / continued",
        "        text under a blank keyword",
        "AFTER   =                    1",
    )

    cards = describe_file(path)[0]["cards"]

    assert [c["keyword"] for c in cards] == [
        "SIMPLE", "BITPIX", "NAXIS", "TELESCOP", "COMMENT", "HISTORY", "",
        "ESO DET CHIP NAME", "LONGSTR", "", "AFTER",
    ]
    assert cards[3:] == [
        {"keyword": "TELESCOP", "value": "HST", "comment": "telescope used"},
        {"keyword": "COMMENT", "value": "a comment card", "comment": ""},
        {"keyword": "HISTORY", "value": "a history card", "comment": ""},
        {"keyword": "", "value": "", "comment": ""},
        {"keyword": "ESO DET CHIP NAME", "value": "ccd1", "comment": "hierarch keyword"},
        {"keyword": "LONGSTR", "value": "x" * 67 + "y" * 30, "comment": "continued"},
        {"keyword": "", "value": "text under a blank keyword", "comment": ""},
        {"keyword": "AFTER", "value": 1, "comment": ""},
    ]


@pytest.mark.parametrize(
    ("card", "value"),
    [
        ("FLAG    =                    T", True),
        ("NOFLAG  =                    F", False),
        ("BIGINT  = 123456789012345678901234567890", 123456789012345678901234567890),
        ("NEGINT  =                  -42", -42),
        ("FLOAT   =       1.234567890123E-05", 1.234567890123e-05),
        ("DFLOAT  =              2.5D+03", 2500.0),
        ("HUGE    =              1.0E999", {"float": "Infinity"}),
        ("NHUGE   =             -1.0E999", {"float": "-Infinity"}),
        ("CPLX    = (1.5, -2.0)", {"real": 1.5, "imag": -2.0}),
        ("CPLXINF = (1.0E999, 3)", {"real": {"float": "Infinity"}, "imag": 3.0}),
        ("UNDEF   =                      / no value", None),
        ("STR     = 'it''s here'", "it's here"),
    ],
)
def test_values_are_encoded_as_strict_json(tmp_path, card, value):
    path = raw_header_file(tmp_path, card)
    with fits.open(path) as hdul:
        [encoded] = cards_to_json([hdul[0].header.cards[3]])

    # the text as written reads as astropy reads it
    assert header_cards(scan_header(io.BytesIO(path.read_bytes()), 0, 100))[3] == encoded
    assert encoded["value"] == value
    assert type(encoded["value"]) is type(value)  # True is not 1, 2500.0 is not 2500
    assert "unparsed" not in encoded
    json.dumps(encoded, allow_nan=False)


def test_nan_is_spelled_out():
    card = fits.Card("X", 1.0)
    card._value = math.nan  # a parsed card cannot hold NaN: FITS has no spelling for it

    assert cards_to_json([card])[0]["value"] == {"float": "NaN"}


def test_unparsable_cards_keep_their_raw_text(tmp_path, caplog):
    path = raw_header_file(
        tmp_path,
        "BADNUM  = 1.2.3 / malformed number",
        "UTF8NUM = 12\xc3\xa9 / non-ASCII bytes where a number should be",
        "UTF8STR = 'caf\xc3\xa9'",
        "HIERARCH ESO BAD = 1.2.3",
        "LONGSTR = 'abc&'",
        "CONTINUE  123",
        "AFTER   =                    1",
    )
    with caplog.at_level(logging.WARNING), pytest.warns(AstropyUserWarning, match="non-ASCII"):
        cards = describe_file(path)[0]["cards"]

    assert cards[3] == {"keyword": "BADNUM", "value": "1.2.3 / malformed number", "comment": None,
                        "unparsed": True}
    assert cards[4] == {"keyword": "UTF8NUM", "value": "12?? / non-ASCII bytes where a number should be",
                        "comment": None, "unparsed": True}
    # astropy replaces non-ASCII bytes with "?" when it reads a header: the string parses.
    assert cards[5] == {"keyword": "UTF8STR", "value": "caf??", "comment": ""}
    assert cards[6] == {"keyword": "ESO BAD", "value": "1.2.3", "comment": None, "unparsed": True}
    # a CONTINUE card without a string: the logical card is both card images
    raw = "'abc&'".ljust(70) + "CONTINUE  123"
    assert cards[7] == {"keyword": "LONGSTR", "value": raw, "comment": None, "unparsed": True}
    assert cards[8] == {"keyword": "AFTER", "value": 1, "comment": ""}
    assert "'BADNUM'" in caplog.text and "'UTF8NUM'" in caplog.text and "'LONGSTR'" in caplog.text


def test_image_shape_bitpix_and_scaling(tmp_path):
    rng = np.random.default_rng(1)
    scaled = fits.ImageHDU(rng.normal(100, 10, (30, 40)).astype(np.float32), name="SCALED")
    scaled.scale("int16", bzero=100.0, bscale=0.5)
    unsigned = fits.ImageHDU(np.arange(12, dtype=np.uint16).reshape(3, 4), name="UNSIGNED")
    cube = fits.ImageHDU(np.zeros((2, 3, 4), np.float64), name="CUBE")
    path = write(tmp_path, scaled, unsigned, cube)

    primary, scaled_doc, unsigned_doc, cube_doc = describe_file(path)

    assert (primary["shape"], primary["bitpix"], primary["wcs"]) == ([], 8, None)
    assert "bzero" not in primary and "bscale" not in primary
    assert (scaled_doc["shape"], scaled_doc["bitpix"]) == ([30, 40], 16)
    assert (scaled_doc["bzero"], scaled_doc["bscale"]) == (100.0, 0.5)
    assert (unsigned_doc["bitpix"], unsigned_doc["bzero"], unsigned_doc["bscale"]) == (16, 32768, 1)
    assert (cube_doc["shape"], cube_doc["bitpix"], cube_doc["wcs"]) == ([2, 3, 4], -64, None)
    docs = (primary, scaled_doc, unsigned_doc, cube_doc)
    assert [d["name"] for d in docs] == ["PRIMARY", "SCALED", "UNSIGNED", "CUBE"]
    assert all(d["thumbnail"] is None and d["preview"] is None for d in docs)


def test_compressed_image(tmp_path):
    data = np.arange(60 * 50, dtype=np.int32).reshape(60, 50)
    hdu = fits.CompImageHDU(data, header=fits.Header(tan_cards(crpix=(25.5, 30.5))), name="SCI",
                            compression_type="RICE_1", tile_shape=(10, 50))
    path = write(tmp_path, hdu)

    doc = describe_file(path)[1]

    assert (doc["type"], doc["name"]) == ("CompImageHDU", "SCI")
    assert (doc["shape"], doc["bitpix"]) == ([60, 50], 32)  # the image's, not the table's
    assert doc["compression"] == {"type": "RICE_1", "tile": [50, 10]}  # ZTILE1 = 50 columns
    keywords = [c["keyword"] for c in doc["cards"]]
    assert keywords[:5] == ["XTENSION", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2"]  # the image's header
    assert not [k for k in keywords if k.startswith("Z") or k.startswith("TFORM")]
    assert doc["wcs"]["centre"] == pytest.approx([RA, DEC], abs=1e-6)


def test_table_columns_come_from_the_header(tmp_path):
    binary = fits.BinTableHDU.from_columns([
        fits.Column(name="ID", format="J", array=np.arange(5)),
        fits.Column(name="FLUX", format="E", unit="Jy", array=np.ones(5)),
        fits.Column(name="SPEC", format="6D", unit="erg/s", dim="(2,3)", array=np.zeros((5, 3, 2))),
    ], name="CATALOG")
    ascii_table = fits.TableHDU.from_columns([
        fits.Column(name="MAG", format="E15.7", unit="mag", array=np.array([1.5, 2.5])),
    ], name="ASCII")
    path = write(tmp_path, binary, ascii_table)

    _, catalog, ascii_doc = describe_file(path)

    assert (catalog["type"], catalog["rows"]) == ("BinTableHDU", 5)
    assert catalog["columns"] == [
        {"name": "ID", "format": "J", "unit": None, "dim": None},
        {"name": "FLUX", "format": "E", "unit": "Jy", "dim": None},
        {"name": "SPEC", "format": "6D", "unit": "erg/s", "dim": "(2,3)"},
    ]
    assert (ascii_doc["type"], ascii_doc["rows"]) == ("TableHDU", 2)
    assert ascii_doc["columns"] == [{"name": "MAG", "format": "E15.7", "unit": "mag", "dim": None}]
    assert "shape" not in catalog and catalog["wcs"] is None


class RecordingFile(io.BytesIO):
    """An in-memory file that records the byte ranges read from it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.reads: list[tuple[int, int]] = []

    def read(self, size: int | None = -1) -> bytes:
        start = self.tell()
        chunk = super().read(size)
        self.reads.append((start, start + len(chunk)))
        return chunk

    def readinto(self, buffer) -> int:
        start = self.tell()
        count = super().readinto(buffer)
        self.reads.append((start, start + count))
        return count


def test_describe_reads_no_data_unit(tmp_path):
    rng = np.random.default_rng(2)
    path = write(
        tmp_path,
        fits.ImageHDU(rng.normal(size=(100, 100)).astype(np.float32), fits.Header(tan_cards())),
        fits.CompImageHDU(rng.integers(0, 1000, (64, 64), dtype=np.int16)),
        fits.BinTableHDU.from_columns([fits.Column("X", "D", array=rng.normal(size=500))]),
        primary=fits.PrimaryHDU(rng.normal(size=(20, 30)).astype(np.float32)),
    )
    recording = RecordingFile(path.read_bytes())

    with fits.open(recording) as hdul:
        docs = [describe_hdu(index, hdu) for index, hdu in enumerate(hdul)]
        infos = [hdul.fileinfo(index) for index in range(len(hdul))]
        spans = [(info["datLoc"], info["datLoc"] + info["datSpan"]) for info in infos]
        header_reads = list(recording.reads)
        assert hdul[1].data.shape == (100, 100)  # the recorder does see a data read
        data_reads = recording.reads[len(header_reads):]

    def touches_data(read: tuple[int, int]) -> bool:
        return any(read[0] < stop and start < read[1] for start, stop in spans)

    assert [d["type"] for d in docs] == ["PrimaryHDU", "ImageHDU", "CompImageHDU", "BinTableHDU"]
    assert all(stop > start for start, stop in spans)
    assert not [read for read in header_reads if touches_data(read)]
    assert any(touches_data(read) for read in data_reads)


def test_wcs_of_an_image(tmp_path):
    path = write(tmp_path, fits.ImageHDU(np.zeros((100, 100), np.float32), fits.Header(tan_cards())))

    wcs = describe_file(path)[1]["wcs"]

    assert (wcs["frame"], wcs["equinox"], wcs["ctype"]) == ("icrs", None, ["RA---TAN", "DEC--TAN"])
    assert wcs["centre"] == pytest.approx([RA, DEC], abs=1e-6)  # CRPIX is the centre pixel
    assert wcs["pixel_scale_arcsec"] == pytest.approx([0.05, 0.05], rel=1e-9)
    expected = WCS(fits.Header(tan_cards())).calc_footprint(axes=(100, 100), center=False)
    np.testing.assert_allclose(wcs["footprint"], expected, rtol=0, atol=1e-9)
    half_diagonal = 50 * math.sqrt(2) * SCALE
    for lon, lat in wcs["footprint"]:
        offset = math.hypot((lon - RA) * math.cos(math.radians(DEC)), lat - DEC)
        assert offset == pytest.approx(half_diagonal, rel=1e-3)
    assert len({tuple(corner) for corner in wcs["footprint"]}) == 4


def test_the_wcs_is_parsed_from_the_header_as_written(tmp_path, monkeypatch):
    """The read hands wcslib the file's own header text: astropy formats (and verifies) no card again."""
    path = write(tmp_path, fits.ImageHDU(np.zeros((100, 100), np.float32), fits.Header(tan_cards())))
    expected = describe_file(path)[1]["wcs"]

    def formatted_again(*_: object, **__: object) -> str:
        raise AssertionError("the header was formatted again")

    monkeypatch.setattr(fits.Header, "tostring", formatted_again)
    data = path.read_bytes()
    reader = RangeReader(lambda start, stop: data[start:stop], len(data), ReadSettings(), name="test.fits")
    extraction = extract(reader, "test.fits", Settings.from_env({"OUTPUT_BUCKET": "out"}), Deadline())

    assert expected is not None and extraction.hdus[1]["wcs"] == expected


def test_galactic_wcs(tmp_path):
    cards = {**tan_cards(121.17, -21.57), "CTYPE1": "GLON-TAN", "CTYPE2": "GLAT-TAN"}
    del cards["RADESYS"]
    path = write(tmp_path, fits.ImageHDU(np.zeros((100, 100), np.float32), fits.Header(cards)))

    wcs = describe_file(path)[1]["wcs"]

    assert (wcs["frame"], wcs["ctype"]) == ("galactic", ["GLON-TAN", "GLAT-TAN"])
    assert wcs["centre"] == pytest.approx([121.17, -21.57], abs=1e-6)


def test_wcs_of_a_cube_with_celestial_axes_after_the_spectral_one(tmp_path):
    # numpy shape (40, 30, 5): NAXIS1 = 5 frequencies, NAXIS2 = 30 Dec, NAXIS3 = 40 RA pixels.
    cards = {
        "CTYPE1": "FREQ", "CRVAL1": 1.4e9, "CDELT1": 1e6, "CRPIX1": 1.0, "CUNIT1": "Hz",
        "CTYPE2": "DEC--SIN", "CRVAL2": DEC, "CDELT2": 1 / 3600, "CRPIX2": 15.5, "CUNIT2": "deg",
        "CTYPE3": "RA---SIN", "CRVAL3": RA, "CDELT3": -2 / 3600, "CRPIX3": 20.5, "CUNIT3": "deg",
    }
    path = write(tmp_path, fits.ImageHDU(np.zeros((40, 30, 5), np.float32), fits.Header(cards)))

    doc = describe_file(path)[1]
    wcs = doc["wcs"]

    assert doc["shape"] == [40, 30, 5]
    assert (wcs["frame"], wcs["ctype"]) == ("icrs", ["RA---SIN", "DEC--SIN"])
    assert wcs["centre"] == pytest.approx([RA, DEC], abs=1e-6)
    assert wcs["pixel_scale_arcsec"] == pytest.approx([1.0, 2.0])  # pixel axes in file order
    # calc_footprint's corners of the (Dec, RA) pixel plane, in the cube's 0-based pixels.
    corners = [[0, -0.5, -0.5], [0, -0.5, 39.5], [0, 29.5, 39.5], [0, 29.5, -0.5]]
    world = WCS(fits.Header(cards)).all_pix2world(corners, 0)
    np.testing.assert_allclose(wcs["footprint"], world[:, [2, 1]], rtol=0, atol=1e-9)


def test_no_wcs(tmp_path):
    path = write(tmp_path, fits.ImageHDU(np.zeros((10, 10), np.float32)))

    assert describe_file(path)[1]["wcs"] is None


@pytest.mark.parametrize(
    "changes",
    [
        {"CTYPE2": None},  # RA without Dec
        {"CD2_1": 2 * -SCALE, "CD2_2": 2 * SCALE, "CD1_1": -SCALE, "CD1_2": SCALE},  # singular CD
        {"CTYPE1": "RA---XYZ", "CTYPE2": "DEC--XYZ"},  # unknown projection
        {"CRVAL2": 95.0},  # Dec beyond the pole: no finite coordinates
    ],
    ids=["ra-without-dec", "singular-cd", "unknown-projection", "beyond-the-pole"],
)
def test_broken_wcs_is_none_and_logged(tmp_path, caplog, changes):
    cards = {**tan_cards(), **changes}
    header = fits.Header({key: value for key, value in cards.items() if value is not None})
    path = write(tmp_path, fits.ImageHDU(np.zeros((100, 100), np.float32), header=header))

    with caplog.at_level(logging.WARNING, logger="handlers.fits.wcs"):
        doc = describe_file(path)[1]

    assert doc["wcs"] is None
    assert "WCS" in caplog.text


def test_lookup_table_distortion_is_left_out():
    header = fits.Header({**tan_cards(), "CPDIS1": "Lookup", "CPDIS2": "Lookup"})
    for axis in (1, 2):
        for record in (f"EXTVER: {axis}", "NAXES: 2", "AXIS.1: 1", "AXIS.2: 2"):
            header.append(fits.Card.fromstring(f"DP{axis}     = '{record}'"))

    wcs = celestial_wcs(header, (100, 100))

    assert wcs is not None and wcs["centre"] == pytest.approx([RA, DEC], abs=1e-6)
    assert header["CPDIS1"] == "Lookup"  # the caller's header is left alone


def test_wcs_axes_beyond_the_shape_give_none():
    header = fits.Header({**tan_cards(), "WCSAXES": 3, "CTYPE1": "FREQ", "CTYPE2": "RA---TAN",
                          "CTYPE3": "DEC--TAN", "CRVAL3": DEC})

    assert celestial_wcs(header, (100, 100)) is None
