"""header_cards reads each card of a header's text as astropy's Card does, without building one."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import warnings
from pathlib import Path

import astropy
import pytest
from astropy.io import fits

from handlers.fits.cards import cards_to_json, header_cards
from handlers.fits.opening import scan_header

from .support import FIXTURES

#: Every FITS file of astropy's test data and of the fixtures: real headers of many instruments and conventions.
FILES = sorted(
    p for p in [*Path(astropy.__file__).parent.rglob("*"), *FIXTURES.iterdir()]
    if p.is_file() and p.name.endswith((".fits", ".fit", ".fts", ".fits.gz", ".fits.bz2", ".fits.xz"))
)
_DECOMPRESS = {b"\x1f\x8b": gzip.decompress, b"BZ": bz2.decompress, b"\xfd7": lzma.decompress}


def headers_of(path: Path) -> list[tuple[bytes, fits.Header]]:
    """(the header's blocks as written, astropy's header) of each HDU whose header astropy reads as written."""
    raw = path.read_bytes()
    raw = _DECOMPRESS.get(raw[:2], lambda data: data)(raw)
    found = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with fits.open(io.BytesIO(raw), lazy_load_hdus=False) as hdul:
                for hdu in hdul:
                    info = hdu.fileinfo() if hasattr(hdu, "fileinfo") else None
                    if info and not isinstance(hdu, (fits.CompImageHDU, fits.GroupsHDU)):
                        found.append((scan_header(io.BytesIO(raw), info["hdrLoc"], 100_000), hdu.header))
        except Exception:  # noqa: BLE001 - a file astropy cannot open has no header to compare
            pass
    return found


def as_json(cards: list[dict]) -> list[dict]:
    return json.loads(json.dumps(cards, allow_nan=False))


def header_text(*cards: str, end: str = "END") -> bytes:
    images = ["SIMPLE  =                    T", "BITPIX  =                    8", "NAXIS   =                    0",
              *cards, end]
    return b"".join(card.encode("latin-1").ljust(80) for card in images)


def astropy_cards(text: bytes) -> list[dict]:
    return as_json(cards_to_json(fits.Header.fromstring(text.decode("latin-1")).cards))


def test_every_header_of_astropys_test_data_reads_as_astropy_reads_it():
    compared = cards = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in FILES:
            for text, header in headers_of(path):
                ours = header_cards(text)
                if ours is None:
                    continue
                assert as_json(ours) == as_json(cards_to_json(header.cards)), f"{path.name}: {text[:80]!r}"
                compared += 1
                cards += len(ours)

    assert compared >= 100 and cards >= 5000  # the data is there: 120 headers, 6,400 cards


def test_standard_and_commentary_cards_never_build_an_astropy_card(monkeypatch):
    text = header_text(
        "TELESCOP= 'HST     '           / telescope used",
        "OBJECT  = 'it''s M31 '",
        "EXPTIME =               1200.5 / [s]",
        "DFLOAT  =              2.5D+03",
        "BIGINT  = 123456789012345678901234567890",
        "FLAG    =                    F / logical",
        "UNDEF   =                      / no value",
        "HUGE    =              1.0E999",
        "COMMENT a comment card",
        "HISTORY a history card",
        "",
        "        text under a blank keyword",
    )
    expected = astropy_cards(text)

    def fail(*_: object) -> None:
        raise AssertionError("astropy's Card was built")

    monkeypatch.setattr(fits.Card, "fromstring", fail)

    assert as_json(header_cards(text)) == expected
    assert expected[3:8] == [
        {"keyword": "TELESCOP", "value": "HST", "comment": "telescope used"},
        {"keyword": "OBJECT", "value": "it's M31", "comment": ""},
        {"keyword": "EXPTIME", "value": 1200.5, "comment": "[s]"},
        {"keyword": "DFLOAT", "value": 2500.0, "comment": ""},
        {"keyword": "BIGINT", "value": 123456789012345678901234567890, "comment": ""},
    ]
    assert expected[9:11] == [{"keyword": "UNDEF", "value": None, "comment": "no value"},
                              {"keyword": "HUGE", "value": {"float": "Infinity"}, "comment": ""}]


def test_other_cards_are_read_by_astropy_each_as_astropy_reads_it(monkeypatch):
    others = [
        "HIERARCH ESO INS FILT1 NAME = 'R_SPECIAL' / hierarch keyword",
        "DP1     = 'AXIS.1: 1' / record-valued",
        "NOTES   = '" + "a" * 67 + "&'",
        "CONTINUE  '" + "b" * 30 + "&'",
        "CONTINUE  '' / continued",
        "CPLX    = (1.5, -2.0)",
        "lower   =                    3",
        "BADNUM  = 1.2.3 / malformed number",
        " COMMENT indented",
        "SHORT= 5",
    ]
    text = header_text("BEFORE  =                    1", *others, "AFTER   =                    2")
    expected = astropy_cards(text)
    given = []

    def recording(cards: list[fits.Card]) -> list[dict]:
        given.extend(card.keyword for card in cards)
        return cards_to_json(cards)

    monkeypatch.setattr("handlers.fits.cards.cards_to_json", recording)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = as_json(header_cards(text))

    assert ours == expected
    # one card each, the long string's three images as one
    assert given == ["ESO INS FILT1 NAME", "DP1.AXIS.1", "NOTES", "CPLX", "LOWER", "BADNUM", "COMMENT", "SHORT"]
    assert [card["keyword"] for card in ours] == ["SIMPLE", "BITPIX", "NAXIS", "BEFORE", *given, "AFTER"]
    assert ours[6]["value"] == "a" * 67 + "b" * 30
    assert ours[9] == {"keyword": "BADNUM", "value": "1.2.3 / malformed number", "comment": None, "unparsed": True}


@pytest.mark.parametrize(
    "text",
    [
        header_text("UTF8STR = 'caf\xc3\xa9'"),  # astropy replaces the bytes, and warns
        header_text("AFTER   =                    1", end="END     but not blank"),
        header_text("AFTER   =                    1")[:-80],  # no END card
    ],
    ids=["non-ascii", "non-standard END", "no END"],
)
def test_a_header_astropy_must_read_whole_is_left_to_it(text):
    assert header_cards(text) is None
