"""The catalog on a folder, from the CLI: rebuild, SQL, cone search, cards, updates by ``process``."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import astropy.units as u
import numpy as np
import pyarrow.parquet as pq
import pytest
from astropy.coordinates import SkyCoord
from astropy.io import fits

from handlers.catalog.build import rebuild, update
from handlers.catalog.cone import cone
from handlers.catalog.layout import OBSCORE, PARTITION_ORDER
from handlers.catalog.query import query
from handlers.catalog.sky import cone_pixels
from handlers.catalog.store import FolderStore
from handlers.cli.main import main
from handlers.layout import metadata_key
from handlers.storage.outputs import FolderOutput
from tools.catalog_synthetic import M31, PROPOSID, Synthetic, body, document, synthetic


@pytest.fixture(scope="module")
def survey() -> Synthetic:
    return synthetic(300)


@pytest.fixture
def root(tmp_path: Path, survey: Synthetic) -> Path:
    """A folder output root holding the survey's metadata documents, and no catalog yet."""
    out = FolderOutput(tmp_path / "out")
    for key, doc in survey.documents.items():
        out.put(metadata_key(key), body(doc), "application/json")
    return tmp_path / "out"


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def cli_json(capsys: pytest.CaptureFixture[str], root: Path, *argv: str) -> list[dict[str, Any]]:
    code, out, err = cli(capsys, "catalog", *argv[:1], "--out", str(root), "--format", "json", *argv[1:])
    assert code == 0, err
    rows: list[dict[str, Any]] = json.loads(out)
    return rows


def within(survey: Synthetic, ra: float, dec: float, radius: float) -> dict[str, float]:
    """The metadata keys whose position lies within ``radius`` of (ra, dec), by astropy's separation."""
    positions = survey.positions()
    keys = list(positions)
    coords = SkyCoord([positions[k][0] for k in keys] * u.deg, [positions[k][1] for k in keys] * u.deg)
    separation = coords.separation(SkyCoord(ra * u.deg, dec * u.deg)).deg
    return {key: float(distance) for key, distance in zip(keys, separation, strict=True) if distance <= radius}


def test_the_row_count_equals_the_metadata_documents(root: Path, survey: Synthetic,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "catalog", "rebuild", "--out", str(root))
    assert code == 0
    assert "300 document(s), 300 obscore row(s)" in out
    counts = cli_json(capsys, root, "query",
                      "SELECT (SELECT count(*) FROM obscore) AS n, (SELECT count(DISTINCT metadata_key) FROM obscore) "
                      "AS keys, (SELECT count(*) FROM cards) AS cards")
    assert counts == [{"n": 300, "keys": 300, "cards": survey.card_count()}]
    # every row sits in the partition of its own position, and the positionless ones in the null partition
    rows = query(FolderStore(root), "SELECT metadata_key, healpix_4, s_ra FROM obscore").to_pylist()
    assert sum(row["healpix_4"] is None for row in rows) == sum(1 for d in survey.documents.values()
                                                                 if d["summary"]["s_ra"] is None) == 30


@pytest.mark.parametrize(("ra", "dec", "radius"), [
    (*M31, 1.0),  # the clustered field: some inside, many just outside
    (0.1, 0.2, 0.6),  # across RA 0/360
    (200.0, 89.5, 1.2),  # at the pole, where a cone meets every meridian
    (150.0, -30.0, 25.0),  # a large cone over many partitions
])
def test_a_cone_finds_exactly_the_files_within_its_radius(root: Path, survey: Synthetic, ra: float, dec: float,
                                                          radius: float, capsys: pytest.CaptureFixture[str]) -> None:
    rebuild(FolderStore(root))
    expected = within(survey, ra, dec, radius)
    rows = cli_json(capsys, root, "cone", str(ra), str(dec), str(radius))
    assert {row["metadata_key"] for row in rows} == set(expected)
    assert expected, "the cone holds no document: the case shows nothing"
    for row in rows:
        assert row["distance_deg"] == pytest.approx(expected[row["metadata_key"]], abs=1e-9)
    assert [row["distance_deg"] for row in rows] == sorted(row["distance_deg"] for row in rows)


def test_a_cone_reads_only_the_partitions_it_touches(root: Path) -> None:
    store = FolderStore(root)
    rebuild(store)
    result = cone(store, *M31, 1.0)
    touched = {OBSCORE.partition_of_key(key) for key in result.scan.files[OBSCORE.name]}
    assert touched and touched <= set(cone_pixels(*M31, 1.0, PARTITION_ORDER))
    every = {OBSCORE.partition_of_key(key) for key in store.keys(OBSCORE.prefix)}
    assert None in every and None not in touched and len(touched) < len(every)


def test_a_cone_with_a_condition(root: Path, survey: Synthetic, capsys: pytest.CaptureFixture[str]) -> None:
    rebuild(FolderStore(root))
    long = {key for key in within(survey, *M31, 1.0)
            if survey.documents[key[len("metadata/"):-len(".json")]]["summary"]["t_exptime"] > 500}
    rows = cli_json(capsys, root, "cone", str(M31[0]), str(M31[1]), "1", "--where", "t_exptime > 500")
    assert {row["metadata_key"] for row in rows} == long and long


def test_the_cards_query_finds_the_keyword(root: Path, survey: Synthetic, capsys: pytest.CaptureFixture[str]) -> None:
    rebuild(FolderStore(root))
    rows = cli_json(capsys, root, "query", "SELECT DISTINCT metadata_key FROM cards "
                    f"WHERE keyword = 'PROPOSID' AND value_number = {PROPOSID} ORDER BY metadata_key")
    assert [row["metadata_key"] for row in rows] == sorted(survey.with_proposid())
    assert len(rows) == 30
    card = cli_json(capsys, root, "query", "SELECT hdu_index, hdu_name, card_index, value, value_number, comment "
                    "FROM cards WHERE metadata_key = 'metadata/survey/obs-0003.fits.json' AND keyword IN "
                    "('PROPOSID', 'SIMPLE', 'PHOTFLAM', 'EXTNAME') ORDER BY hdu_index, card_index")
    assert card == [
        {"hdu_index": 0, "hdu_name": "PRIMARY", "card_index": 0, "value": "T", "value_number": None,
         "comment": "conforms to FITS standard"},
        {"hdu_index": 0, "hdu_name": "PRIMARY", "card_index": 4, "value": "9431", "value_number": 9431.0,
         "comment": "PEP proposal"},
        {"hdu_index": 0, "hdu_name": "PRIMARY", "card_index": 6, "value": '{"float": "NaN"}', "value_number": None,
         "comment": "not finite"},
        {"hdu_index": 1, "hdu_name": "SCI", "card_index": 1, "value": "SCI", "value_number": None, "comment": ""},
    ]


def test_rebuild_twice_gives_the_same_files(root: Path) -> None:
    store = FolderStore(root)
    rebuild(store)
    first = {key: store.read(key) for key in store.keys("catalog/")}
    report = rebuild(store)
    assert {key: store.read(key) for key in store.keys("catalog/")} == first
    assert report.deleted == [] and report.written == sorted(first)


def test_rebuild_removes_the_rows_of_documents_gone(root: Path) -> None:
    store = FolderStore(root)
    rebuild(store)
    for number in range(0, 300, 10):  # a whole partition's worth of positionless rows among them
        (root / "metadata" / "survey" / f"obs-{number:04d}.fits.json").unlink()
    (root / "metadata" / "survey" / "obs-0009.fits.json").unlink()
    rebuild(store)
    assert query(store, "SELECT count(*) AS n FROM obscore").to_pylist() == [{"n": 269}]
    assert not query(store, "SELECT * FROM cards WHERE metadata_key LIKE '%obs-0009%'").num_rows


def test_an_update_puts_a_moved_object_once_in_its_new_partition(root: Path) -> None:
    """An object processed again with a new position and exposure: its old row goes, in its old partition."""
    store = FolderStore(root)
    rebuild(store)
    key = "survey/obs-0001.fits"
    before = query(store, f"SELECT healpix_4 FROM obscore WHERE source_key = '{key}'").to_pylist()
    moved = document(1, 250.0, -60.0, np.random.default_rng(0), exptime=4321.0)
    FolderOutput(root).put(metadata_key(key), body(moved), "application/json")
    update(store, [key])
    rows = query(store, f"SELECT healpix_4, s_ra, t_exptime FROM obscore WHERE source_key = '{key}'").to_pylist()
    assert len(rows) == 1 and rows[0]["s_ra"] == 250.0 and rows[0]["t_exptime"] == 4321.0
    assert rows[0]["healpix_4"] != before[0]["healpix_4"]
    exptime = query(store, f"SELECT value_number FROM cards WHERE metadata_key = '{metadata_key(key)}' "
                    "AND keyword = 'EXPTIME'").to_pylist()
    assert exptime == [{"value_number": 4321.0}]
    updated = _tables(store)
    rebuild(store)
    assert _tables(store) == updated  # the update leaves what a rebuild would


def _tables(store: FolderStore) -> dict[str, list[dict[str, Any]]]:
    return {name: query(store, f"SELECT * FROM {name} ORDER BY ALL").to_pylist() for name in ("obscore", "cards")}


def test_process_into_a_folder_updates_its_catalog(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The CLI alone gives a queryable folder; a file processed again appears once, with its latest values."""
    image = tmp_path / "in" / "m31.fits"
    image.parent.mkdir()
    out = tmp_path / "out"
    for exposure in (120.0, 900.0):
        header = fits.Header({"TELESCOP": "INT", "INSTRUME": "WFC", "OBJECT": "M31", "EXPTIME": exposure,
                              "PROPOSID": PROPOSID})
        fits.PrimaryHDU(np.arange(64 * 64, dtype=np.float32).reshape(64, 64), header).writeto(image, overwrite=True)
        code, _, notes = cli(capsys, "process", str(image), "--out", str(out))
        assert code == 0 and not notes
    rows = cli_json(capsys, out, "query", "SELECT source_key, t_exptime, target_name, instrument_name FROM obscore")
    assert rows == [{"source_key": "m31.fits", "t_exptime": 900.0, "target_name": "M31", "instrument_name": "WFC"}]
    cards = cli_json(capsys, out, "query", "SELECT count(*) AS n FROM cards WHERE keyword = 'EXPTIME'")
    assert cards == [{"n": 1}]


def test_process_into_a_folder_of_older_documents_builds_the_whole_catalog(
        root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image = tmp_path / "one.fits"
    fits.PrimaryHDU(np.zeros((8, 8), np.float32)).writeto(image)
    assert cli(capsys, "process", str(image), "--out", str(root))[0] == 0
    assert cli_json(capsys, root, "query", "SELECT count(*) AS n FROM obscore") == [{"n": 301}]


def test_bad_documents_are_named_and_the_rest_kept(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = FolderOutput(root)
    out.put("metadata/broken.fits.json", b"{not json", "application/json")
    out.put("metadata/list.fits.json", b"[1, 2]", "application/json")
    odd = document(7, 10.0, 41.0, np.random.default_rng(1))
    odd["summary"].update(s_dec=123.0, calib_level="two", t_exptime={"float": "Infinity"}, t_xel=10**29)
    odd["processor"]["processed_at"] = "yesterday"
    out.put("metadata/odd.fits.json", body(odd), "application/json")
    code, printed, err = cli(capsys, "catalog", "rebuild", "--out", str(root))
    assert code == 0 and "301 document(s)" in printed
    assert "metadata/broken.fits.json: not JSON" in err
    assert "metadata/list.fits.json: not a metadata document" in err
    assert "metadata/odd.fits.json: summary.calib_level 'two' is not of type INTEGER; written as null" in err
    assert ("metadata/odd.fits.json: no valid position in s_ra=10.0, s_dec=123.0; written as null, under the null "
            "partition") in err
    assert ("metadata/odd.fits.json: summary.t_exptime {'float': 'Infinity'} is not of type DOUBLE; "
            "written as null") in err
    assert "metadata/odd.fits.json: summary.t_xel 100000000000000000000000000000 is not of type BIGINT" in err
    assert "metadata/odd.fits.json: processor.processed_at 'yesterday' is not an ISO 8601 time" in err
    row = cli_json(capsys, root, "query", "SELECT calib_level, s_ra, s_dec, healpix_4, _healpix_29, t_exptime, t_xel, "
                   "ingested_at FROM obscore WHERE metadata_key = 'metadata/odd.fits.json'")
    assert row == [{"calib_level": None, "s_ra": None, "s_dec": None, "healpix_4": None, "_healpix_29": None,
                    "t_exptime": None, "t_xel": None, "ingested_at": None}]


def test_the_formats(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rebuild(FolderStore(root))
    sql = ("SELECT instrument_name, count(*) AS files, min(ingested_at) AS first FROM obscore "
           "GROUP BY instrument_name ORDER BY instrument_name")
    code, table, _ = cli(capsys, "catalog", "query", "--out", str(root), sql)
    lines = table.splitlines()
    assert code == 0 and lines[0].split() == ["instrument_name", "files", "first"]
    assert set(lines[1]) == {"-", " "} and lines[-1] == "(4 rows)"
    assert lines[2].split()[:2] == ["ACS/WFC", "75"] and len({len(line) for line in lines[1:-1]}) == 1
    code, text, _ = cli(capsys, "catalog", "query", "--out", str(root), "--format", "csv", sql)
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[0] == ["instrument_name", "files", "first"] and parsed[1] == ["ACS/WFC", "75",
                                                                               "2026-12-02T10:00:00+00:00"]
    assert cli_json(capsys, root, "query", sql)[3] == {"instrument_name": "WFC3/UVIS", "files": 75,
                                                       "first": "2026-12-02T10:01:00+00:00"}


@pytest.mark.parametrize("argv", [
    ["query", "SELECT nope FROM obscore"],
    ["cone", "10", "95", "1"],
    ["cone", "10", "40", "0"],
    ["cone", "10", "40", "1", "--where", "no_such_column > 1"],
])
def test_usage_errors(root: Path, argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    rebuild(FolderStore(root))
    with pytest.raises(SystemExit) as stop:
        main(["catalog", argv[0], "--out", str(root), *argv[1:]])
    assert stop.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_an_empty_root_has_empty_tables(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(capsys, "catalog", "rebuild", "--out", str(tmp_path))[0] == 0
    assert cli_json(capsys, tmp_path, "query", "SELECT count(*) AS n FROM obscore") == [{"n": 0}]
    assert cli_json(capsys, tmp_path, "cone", "10", "40", "1") == []


def test_files_are_sorted_by_healpix_29(root: Path) -> None:
    store = FolderStore(root)
    rebuild(store)
    for key in store.keys(OBSCORE.prefix):
        index = pq.read_table(root / key, columns=["_healpix_29"])["_healpix_29"].to_pylist()
        assert index == sorted(index, key=lambda value: (value is None, value))


def test_a_key_longer_than_a_file_name_is_catalogued(tmp_path: Path) -> None:
    """A folder stores a long key under several names (storage/folder_names.py): its row keeps the key."""
    key = "deep/" + "x" * 400 + ".fits"
    FolderOutput(tmp_path).put(metadata_key(key), body(document(4, 10.0, 41.0, np.random.default_rng(0))),
                               "application/json")
    store = FolderStore(tmp_path)
    rebuild(store)
    assert query(store, "SELECT metadata_key FROM obscore").to_pylist() == [{"metadata_key": metadata_key(key)}]


def test_a_bucket_that_cannot_be_read_is_a_fault_not_a_traceback(s3: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "rebuild", "--out", "s3://no-such-bucket-here"]) == 1
    err = capsys.readouterr().err
    assert "catalog rebuild: s3://no-such-bucket-here: " in err and "NoSuchBucket" in err and "Traceback" not in err


def test_a_catalog_that_cannot_be_updated_is_a_warning_of_process(
        root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rebuild(FolderStore(root))
    damaged = next(iter(FolderStore(root).keys(OBSCORE.prefix)))
    (root / damaged).write_bytes(b"not parquet")
    image = tmp_path / "one.fits"
    fits.PrimaryHDU(np.zeros((8, 8), np.float32)).writeto(image)
    code, printed, notes = cli(capsys, "process", str(image), "--out", str(root))
    assert code == 0 and "1 input(s): 1 processed." in printed
    assert "WARNING catalog not updated: " in notes and f"catalog rebuild --out {root}" in notes
    assert cli(capsys, "catalog", "rebuild", "--out", str(root))[0] == 0
    assert cli_json(capsys, root, "query", "SELECT count(*) AS n FROM obscore") == [{"n": 301}]
