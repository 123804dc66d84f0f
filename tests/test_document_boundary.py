"""One boundary for the document: whatever numbers a header holds, the input ends in metadata or a record.

Each input is a header written here by hand: an EXTVER that astropy reads as an infinity
or a complex number, an EQUINOX that breaks the WCS's conversion to ICRS, exposure times
whose end overflows.  Each goes through ``pipeline.process`` into a folder and through the
Lambda handler on moto, for the event shapes that report results differently (direct, SQS,
Batch Operations): every document written is strict JSON, the invocation returns normally,
and a refused input leaves its record and no thumbnail.  A fault while writing, of any
class, takes back the thumbnails written.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fixtures.sample_events import retarget, s3_batch_v1, sqs_s3
from handlers import ingest
from handlers.config import Settings
from handlers.pipeline import Status, process
from handlers.storage.local_source import LocalSource
from handlers.storage.outputs import FolderOutput

from .support import INBOX, notified, output_keys, read_json, upload, version_of

BLOCK = 2880
PIXELS = np.arange(64, dtype=">f4").reshape(8, 8).tobytes()
LARGEST_FLOAT = "1.7976931348623157E308"


def card(keyword: str, value: str) -> str:
    """A card as a header's text holds it: a string from column 11, anything else ending in column 30."""
    field = value.ljust(20) if value.startswith("'") else value.rjust(20)
    return f"{keyword:<8}= {field}".ljust(80)


def unit(cards: list[str], data: bytes = b"") -> bytes:
    """One HDU: its cards and END, then its data, each padded to whole blocks."""
    header = "".join(cards) + "END".ljust(80)
    return header.ljust(-(-len(header) // BLOCK) * BLOCK).encode("ascii") + data + b"\0" * (-len(data) % BLOCK)


def image(*extra: str) -> list[str]:
    """The primary header of an 8 by 8 float image, then ``extra`` cards."""
    keywords = [card("SIMPLE", "T"), card("BITPIX", "-32"), card("NAXIS", "2"), card("NAXIS1", "8"),
                card("NAXIS2", "8")]
    return keywords + list(extra)


def with_extver(value: str) -> bytes:
    """An empty primary HDU, then an image extension SCI whose EXTVER card holds ``value``."""
    primary = [card("SIMPLE", "T"), card("BITPIX", "8"), card("NAXIS", "0"), card("EXTEND", "T")]
    extension = [card("XTENSION", "'IMAGE   '"), card("BITPIX", "-32"), card("NAXIS", "2"), card("NAXIS1", "8"),
                 card("NAXIS2", "8"), card("PCOUNT", "0"), card("GCOUNT", "1"), card("EXTNAME", "'SCI'"),
                 card("EXTVER", value)]
    return unit(primary) + unit(extension, PIXELS)


def with_equinox(radesys: str, equinox: str) -> bytes:
    """An image with a celestial TAN WCS near M31 in ``radesys`` at ``equinox``."""
    wcs = [card("CTYPE1", "'RA---TAN'"), card("CTYPE2", "'DEC--TAN'"), card("CRVAL1", "10.0"),
           card("CRVAL2", "41.0"), card("CRPIX1", "4.5"), card("CRPIX2", "4.5"), card("CDELT1", "-0.001"),
           card("CDELT2", "0.001"), card("RADESYS", f"'{radesys}'"), card("EQUINOX", equinox)]
    return unit(image(*wcs), PIXELS)


def with_times(expstart: str, exptime: str) -> bytes:
    """An image whose exposure starts at MJD ``expstart`` and lasts ``exptime`` seconds."""
    return unit(image(card("EXPSTART", expstart), card("EXPTIME", exptime)), PIXELS)


def first(doc: dict[str, Any], index: int, keyword: str) -> Any:
    return next(c["value"] for c in doc["hdus"][index]["cards"] if c["keyword"] == keyword)


def extver_infinite(doc: dict[str, Any]) -> None:
    assert doc["hdus"][1]["ver"] == {"float": "Infinity"}
    assert first(doc, 1, "EXTVER") == {"float": "Infinity"}


def extver_complex(doc: dict[str, Any]) -> None:
    assert doc["hdus"][1]["ver"] == {"real": 1.0, "imag": 2.0}


def equinox_infinite(doc: dict[str, Any]) -> None:
    wcs = doc["hdus"][0]["wcs"]
    assert (wcs["frame"], wcs["equinox"]) == ("fk5", {"float": "Infinity"})
    assert first(doc, 0, "EQUINOX") == {"float": "Infinity"}
    no_position(doc, "cannot be converted to ICRS")


def equinox_beyond_any_epoch(doc: dict[str, Any]) -> None:
    wcs = doc["hdus"][0]["wcs"]
    assert (wcs["frame"], wcs["equinox"]) == ("fk4", 1e300)
    no_position(doc, "the equinox 1e+300 is no year from 1000 to 3000")


def no_position(doc: dict[str, Any], reason: str) -> None:
    """The WCS's own centre is kept; the summary has no position from it, and says why."""
    assert doc["hdus"][0]["wcs"]["centre"] == [10.0, 41.0]
    summary = doc["summary"]
    assert [summary[name] for name in ("s_ra", "s_dec", "s_fov", "s_region")] == [None] * 4
    assert any(w.startswith("summary: s_ra, s_dec, s_fov and s_region") and reason in w for w in doc["warnings"])


def end_overflows(doc: dict[str, Any]) -> None:
    summary = doc["summary"]
    assert (summary["t_min"], summary["t_max"], summary["t_exptime"]) == (float(LARGEST_FLOAT), None, 1e308)
    assert first(doc, 0, "EXPSTART") == float(LARGEST_FLOAT)
    assert "summary: t_max = inf is not a finite number: left null" in doc["warnings"]


@dataclass(frozen=True)
class Case:
    body: bytes
    check: Callable[[dict[str, Any]], None]
    thumbnail: str  # the file name of the one thumbnail


CASES = {
    "EXTVER = 1E400": Case(with_extver("1E400"), extver_infinite, "1-SCI.png"),
    "EXTVER = (1.0, 2.0)": Case(with_extver("(1.0, 2.0)"), extver_complex, "1-SCI.png"),
    "FK5 EQUINOX = 1E400": Case(with_equinox("FK5", "1E400"), equinox_infinite, "0-PRIMARY.png"),
    "FK4 EQUINOX = 1E300": Case(with_equinox("FK4", "1E300"), equinox_beyond_any_epoch, "0-PRIMARY.png"),
    "EXPSTART, EXPTIME near 1.8e308": Case(with_times(LARGEST_FLOAT, "1.0E308"), end_overflows, "0-PRIMARY.png"),
}


def strict(body: bytes) -> Any:
    """``body`` parsed as strict JSON: NaN, Infinity and -Infinity refused."""
    def refuse(constant: str) -> None:
        raise AssertionError(f"not strict JSON: {constant}")

    return json.loads(body, parse_constant=refuse)


def written(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def source_file(tmp_path: Path, name: str, body: bytes) -> LocalSource:
    path = tmp_path / "in" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(body)
    return LocalSource(str(path), Settings.from_env({}).reads)


# through the pipeline, into a folder ------------------------------------------------------------


@pytest.mark.parametrize("name", list(CASES))
def test_a_header_value_json_cannot_hold_is_encoded_in_the_metadata(tmp_path: Path, name: str) -> None:
    case = CASES[name]
    out = tmp_path / "out"

    outcome = process(source_file(tmp_path, "odd.fits", case.body), FolderOutput(out), Settings.from_env({}))

    assert outcome.status is Status.PROCESSED, outcome.error
    assert written(out) == ["metadata/odd.fits.json", f"thumbnails/odd.fits/{case.thumbnail}"]
    doc = strict((out / "metadata/odd.fits.json").read_bytes())
    case.check(doc)
    assert [hdu["thumbnail"] for hdu in doc["hdus"] if hdu["thumbnail"]] == [f"thumbnails/odd.fits/{case.thumbnail}"]


def summary_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """The summary raises what no reader of header values catches, as an astropy routine might."""
    from handlers.obscore import record

    def fail(*_: Any, **__: Any) -> None:
        raise OverflowError("(34, 'Numerical result out of range')")

    monkeypatch.setattr(record, "observation_summary", fail)


def test_an_input_that_cannot_be_described_is_refused_with_a_record_and_leaves_no_thumbnail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary_fails(monkeypatch)
    out = tmp_path / "out"

    outcome = process(source_file(tmp_path, "odd.fits", CASES["EXTVER = 1E400"].body), FolderOutput(out),
                      Settings.from_env({}))

    assert outcome.status is Status.REJECTED
    assert written(out) == ["errors/odd.fits.json"]
    record = strict((out / "errors/odd.fits.json").read_bytes())
    assert record["error"]["class"] == "UndescribableFitsError"
    assert "OverflowError" in record["error"]["message"]


# a fault while writing ---------------------------------------------------------------------------


class FailingMetadataPut(FolderOutput):
    """A folder whose write of a metadata document fails with a fault that is no IngestError."""

    def put(self, key: str, body: bytes, content_type: str, tags: Any = None) -> None:
        if key.startswith("metadata/"):
            raise RuntimeError("injected: the metadata write failed")
        super().put(key, body, content_type, tags)


class FailingErrorDelete(FolderOutput):
    """A folder whose DELETE of the earlier error record fails, once the thumbnail has been written."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.thumbnail_written = threading.Event()

    def put(self, key: str, body: bytes, content_type: str, tags: Any = None) -> None:
        super().put(key, body, content_type, tags)
        if key.startswith("thumbnails/"):
            self.thumbnail_written.set()

    def delete(self, key: str) -> None:
        if key.startswith("errors/"):
            assert self.thumbnail_written.wait(timeout=30)
            raise RuntimeError("injected: the delete failed")
        super().delete(key)


@pytest.mark.parametrize("output", [FailingMetadataPut, FailingErrorDelete])
def test_a_write_fault_of_any_class_takes_back_the_thumbnails(tmp_path: Path, output: type[FolderOutput]) -> None:
    out = tmp_path / "out"
    plain = unit(image(), PIXELS)  # nothing odd in it: only the write fails

    with pytest.raises(RuntimeError, match="injected"):
        process(source_file(tmp_path, "plain.fits", plain), output(out), Settings.from_env({}))

    assert written(out) == []


# through the Lambda handler, on moto -------------------------------------------------------------


def direct(head: dict[str, Any], key: str) -> dict[str, Any]:
    return notified(head, key)


def sqs(head: dict[str, Any], key: str) -> dict[str, Any]:
    message = retarget(sqs_s3()["Records"][0], bucket=INBOX, key=key, **version_of(head))
    return {"Records": [message]}


def batch_operations(head: dict[str, Any], key: str) -> dict[str, Any]:
    return retarget(s3_batch_v1(), bucket=INBOX, key=key, **version_of(head))


EVENTS = {"direct": direct, "SQS": sqs, "Batch Operations": batch_operations}


def answered_normally(response: Any, shape: str, status: str) -> None:
    """No retry: no exception, no failed SQS message, a Succeeded Batch Operations task."""
    if shape == "direct":
        assert [outcome["status"] for outcome in response["outcomes"]] == [status]
    elif shape == "SQS":
        assert response == {"batchItemFailures": []}
    else:
        assert [(r["resultCode"], r["resultString"]) for r in response["results"]] == [("Succeeded", status)]


@pytest.mark.parametrize("shape", list(EVENTS))
@pytest.mark.parametrize("name", list(CASES))
def test_the_handler_writes_strict_metadata_for_each_json_breaking_file(
    s3: Any, context: Any, name: str, shape: str
) -> None:
    case = CASES[name]
    key = "odd/header.fits"
    event = EVENTS[shape](upload(s3, key, case.body), key)

    response = ingest.handler(event, context)

    answered_normally(response, shape, "processed")
    thumbnail = f"thumbnails/{key}/{case.thumbnail}"
    assert output_keys(s3) == [f"metadata/{key}.json", thumbnail]
    doc = read_json(s3, f"metadata/{key}.json")
    case.check(doc)
    assert [hdu["thumbnail"] for hdu in doc["hdus"] if hdu["thumbnail"]] == [thumbnail]


@pytest.mark.parametrize("shape", list(EVENTS))
def test_the_handler_records_an_input_it_cannot_describe_and_leaves_no_thumbnail(
    s3: Any, context: Any, monkeypatch: pytest.MonkeyPatch, shape: str
) -> None:
    summary_fails(monkeypatch)
    key = "odd/header.fits"
    event = EVENTS[shape](upload(s3, key, CASES["FK5 EQUINOX = 1E400"].body), key)

    response = ingest.handler(event, context)

    answered_normally(response, shape, "rejected")
    assert output_keys(s3) == [f"errors/{key}.json"]
    assert read_json(s3, f"errors/{key}.json")["error"]["class"] == "UndescribableFitsError"
