"""Inputs that cost more than they seem: each is bounded by what it costs, made here, never committed.

The files of the hardening issue (headers of many cards in many HDUs, a legal header of 30,000
cards, claims of columns and axes a header cannot hold, SIP polynomials of absurd order) run
through the CLI in one child process at the default limits, whose peak RSS is measured; the
mechanisms that need a closer look (a tile decompressed once, the document's size, the deadline
inside decompression) run in this process, their traced memory measured.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import subprocess
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from astropy.io import fits

from handlers.config import LimitSettings, Settings
from handlers.errors import TimeLimitError
from handlers.pipeline import Outcome, process
from handlers.storage.local_source import LocalSource
from handlers.storage.outputs import FolderOutput

from .support import blocks, card, process_measuring_rss

MiB = 1024 * 1024
#: The function's memory (terraform's default memory_size, 1024 MB), less what Lambda's runtime takes.
RSS_LIMIT = 900 * MiB
def primary(*cards: str, naxis: str = "NAXIS   =                    0") -> bytes:
    return blocks(b"".join(card(c) for c in ("SIMPLE  =                    T", "BITPIX  =                    8",
                                             naxis, "EXTEND  =                    T", *cards, "END")))


def extension(count: int) -> bytes:
    """An empty IMAGE extension whose header holds ``count`` cards before END."""
    head = ["XTENSION= 'IMAGE   '", "BITPIX  =                    8", "NAXIS   =                    0",
            "PCOUNT  =                    0", "GCOUNT  =                    1"]
    body = b"".join(card(f"HISTORY step {i:07d} of a long processing history") for i in range(count - len(head)))
    return blocks(b"".join(card(c) for c in head) + body + card("END"))


def many_cards_gzip(path: Path) -> None:
    """300 HDUs of 19,900 cards each, 478 MB of headers in under 2 MB of gzip."""
    hdu = extension(19_900)
    with gzip.open(path, "wb", compresslevel=9) as f:
        f.write(primary())
        for _ in range(300):
            f.write(hdu)


def many_cards_plain(path: Path) -> None:
    """60 HDUs of 19,900 cards each: a 96 MB file of headers."""
    hdu = extension(19_900)
    with path.open("wb") as f:
        f.write(primary())
        for _ in range(60):
            f.write(hdu)


def image(*cards: str, bitpix: int = 8) -> bytes:
    """A 16x16 primary image whose header holds ``cards`` after the mandatory ones."""
    mandatory = ("SIMPLE  =                    T", f"BITPIX  = {bitpix:20d}", "NAXIS   =                    2",
                 "NAXIS1  =                   16", "NAXIS2  =                   16")
    header = blocks(b"".join(card(c) for c in (*mandatory, *cards, "END")))
    return header + blocks(bytes(16 * 16 * abs(bitpix) // 8))


def legal_long_history(path: Path) -> None:
    """A legal primary header of 30,000 cards before its END (a long processing history) over a small image."""
    history = [f"HISTORY step {i:05d}: recalibrated with a reference file" for i in range(30_000 - 6)]
    path.write_bytes(image("OBJECT  = 'M31     '", *history))


def tfields_claim(path: Path) -> None:
    """A binary table of one column whose 8 KB header claims a hundred million."""
    table = [card(c) for c in ("XTENSION= 'BINTABLE'", "BITPIX  =                    8",
                               "NAXIS   =                    2", "NAXIS1  =                    8",
                               "NAXIS2  =                    1", "PCOUNT  =                    0",
                               "GCOUNT  =                    1", "TFIELDS =            100000000",
                               "TTYPE1  = 'FLUX    '", "TFORM1  = 'D       '")]
    table += [card(f"COMMENT padding {i}") for i in range(80)] + [card("END")]
    path.write_bytes(primary() + blocks(b"".join(table)) + blocks(bytes(8)))


def naxis_claim(path: Path) -> None:
    """A primary header of four cards claiming a hundred million axes."""
    path.write_bytes(primary(naxis="NAXIS   =            100000000"))


def sip_order(path: Path) -> None:
    """A small image whose TAN-SIP WCS states A_ORDER = B_ORDER = 6000, written by hand."""
    wcs = ["CTYPE1  = 'RA---TAN-SIP'", "CTYPE2  = 'DEC--TAN-SIP'", "CRPIX1  =                  8.5",
           "CRPIX2  =                  8.5", "CRVAL1  =                 10.0", "CRVAL2  =                 41.0",
           "CD1_1   =              -0.0001", "CD1_2   =                  0.0", "CD2_1   =                  0.0",
           "CD2_2   =               0.0001", "A_ORDER =                 6000", "B_ORDER =                 6000",
           "A_2_0   =                1E-06", "B_0_2   =                1E-06"]
    path.write_bytes(image(*wcs, bitpix=-32))


#: name: (maker, the error class or "metadata")
ISSUE_FILES: dict[str, tuple[Callable[[Path], None], str]] = {
    "cards_300x19900.fits.gz": (many_cards_gzip, "FileCardsLimitError"),
    "cards_60x19900.fits": (many_cards_plain, "FileCardsLimitError"),
    "history_30000.fits": (legal_long_history, "metadata"),
    "tfields_1e8.fits": (tfields_claim, "metadata"),
    "naxis_1e8.fits": (naxis_claim, "CorruptFitsError"),
    "sip_order_6000.fits": (sip_order, "metadata"),
}


@pytest.fixture(scope="module")
def issue_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path, int, float]:
    folder = tmp_path_factory.mktemp("costs")
    paths = []
    for name, (make, _) in ISSUE_FILES.items():
        make(folder / name)
        paths.append(str(folder / name))
    out = folder / "out"
    started = time.monotonic()
    run, peak = process_measuring_rss(paths, out)
    elapsed = time.monotonic() - started
    return run, out, peak, elapsed


def test_no_traceback_and_memory_within_the_function(
    issue_run: tuple[subprocess.CompletedProcess[str], Path, int, float],
) -> None:
    run, _, peak, elapsed = issue_run
    assert "Traceback" not in run.stdout + run.stderr, run.stderr[-3000:]
    assert run.returncode == 1  # some rejected, none crashed
    # The cards limit bounds the headers kept: about 1 KiB a card, plus the interpreter and astropy.
    assert peak < RSS_LIMIT, f"peak RSS {peak / MiB:.0f} MiB"
    print(f"\nissue's files: peak RSS {peak / MiB:.0f} MiB, {elapsed:.1f} s\n" + run.stdout)


@pytest.mark.parametrize("name", list(ISSUE_FILES))
def test_each_file_has_its_outcome(
    issue_run: tuple[subprocess.CompletedProcess[str], Path, int, float], name: str
) -> None:
    _, out, _, _ = issue_run
    expected = ISSUE_FILES[name][1]
    metadata, error = out / "metadata" / f"{name}.json", out / "errors" / f"{name}.json"
    if expected == "metadata":
        assert metadata.exists() and not error.exists(), error.read_text() if error.exists() else ""
    else:
        assert error.exists() and not metadata.exists()
        record = json.loads(error.read_text())["error"]
        assert record["class"] == expected
        assert "Traceback" not in json.dumps(record)


def test_the_cards_limit_is_named(issue_run: tuple[subprocess.CompletedProcess[str], Path, int, float]) -> None:
    _, out, _, _ = issue_run
    message = json.loads((out / "errors" / "cards_300x19900.fits.gz.json").read_text())["error"]["message"]
    assert f"MAX_FILE_CARDS ({LimitSettings.max_file_cards:,})" in message


def test_a_legal_30000_card_header_passes_at_the_defaults(
    issue_run: tuple[subprocess.CompletedProcess[str], Path, int, float],
) -> None:
    _, out, _, _ = issue_run
    doc = json.loads((out / "metadata" / "history_30000.fits.json").read_text())
    assert len(doc["hdus"][0]["cards"]) == 30_000
    assert doc["hdus"][0]["shape"] == [16, 16] and doc["hdus"][0]["thumbnail"]


def test_a_column_claim_is_bounded_by_the_cards_present(
    issue_run: tuple[subprocess.CompletedProcess[str], Path, int, float],
) -> None:
    _, out, _, _ = issue_run
    doc = json.loads((out / "metadata" / "tfields_1e8.fits.json").read_text())
    assert doc["hdus"][1]["columns"] == [{"name": "FLUX", "format": "D", "unit": None, "dim": None}]
    assert any(w.startswith("LimitWarning: HDU 1: TFIELDS = 100,000,000") for w in doc["warnings"]), doc["warnings"]


def test_an_axis_claim_is_refused_before_astropy_reads_it(
    issue_run: tuple[subprocess.CompletedProcess[str], Path, int, float],
) -> None:
    _, out, _, _ = issue_run
    message = json.loads((out / "errors" / "naxis_1e8.fits.json").read_text())["error"]["message"]
    assert "HDU 0" in message and "NAXIS = 100,000,000" in message


def test_a_sip_order_is_capped_with_a_warning(
    issue_run: tuple[subprocess.CompletedProcess[str], Path, int, float],
) -> None:
    _, out, _, _ = issue_run
    doc = json.loads((out / "metadata" / "sip_order_6000.fits.json").read_text())
    assert any("A_ORDER = 6,000, B_ORDER = 6,000 over the SIP order cap" in w for w in doc["warnings"]), doc["warnings"]
    wcs = doc["hdus"][0]["wcs"]
    assert wcs is not None and wcs["centre"] == pytest.approx([10.0, 41.0], abs=1e-3)  # without SIP, still located


# In this process: what a closer look needs ----------------------------------------------------------


def run_file(path: Path, out: Path, settings: Settings, deadline: Any = None) -> tuple[Outcome, int]:
    """Process ``path`` into the folder ``out``; the outcome and the traced peak of the processing."""
    tracemalloc.start()
    try:
        outcome = process(LocalSource(str(path), settings.reads), FolderOutput(out), settings, deadline)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return outcome, peak


def one_tile_image(path: Path, side: int) -> None:
    """A valid int16 image of ``side``² stored as one GZIP_1 tile (a gradient, so it compresses well)."""
    data = (np.add.outer(np.arange(side, dtype=np.int32), np.arange(side, dtype=np.int32)) % 4096).astype(np.int16)
    hdu = fits.CompImageHDU(data, compression_type="GZIP_1", tile_shape=(side, side))
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path)


def counting_decompressions(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that grows by one for every tile astropy decompresses."""
    from astropy.io.fits.hdu.compressed import _tiled_compression

    calls: list[int] = []
    original = _tiled_compression._decompress_tile

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(_tiled_compression, "_decompress_tile", counted)
    return calls


def test_a_tile_taller_than_a_row_block_is_decompressed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    side = 8192  # 128 MiB decompressed, over the 64 MiB a 2-D image is decompressed whole below
    path = tmp_path / "one_tile.fits.fz"
    one_tile_image(path, side)
    calls = counting_decompressions(monkeypatch)
    settings = Settings()

    outcome, peak = run_file(path, tmp_path / "out", settings)

    assert outcome.status == "processed" and outcome.thumbnails == 1
    assert len(calls) == 1  # not once per row block
    plane = side * side * 2
    # The bound of the design: astropy's copies of the one tile (inflated, in native byte order, the
    # image) and the row blocks, whatever the number of blocks.
    bound = 4 * plane + 4 * settings.thumbnails.block_bytes
    assert plane <= settings.thumbnails.max_tile_bytes and peak < bound, f"peak {peak / MiB:.0f} MiB"
    print(f"\none tile of {plane / MiB:.0f} MiB: {len(calls)} decompression, peak traced {peak / MiB:.0f} MiB")


def test_a_tile_over_max_tile_bytes_skips_the_preview_unread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "one_tile.fits.fz"
    one_tile_image(path, 2048)  # 8 MiB decompressed
    calls = counting_decompressions(monkeypatch)
    base = Settings()
    settings = dataclasses.replace(base, thumbnails=dataclasses.replace(
        base.thumbnails, block_bytes=64 * 1024, max_tile_bytes=4 * MiB))

    outcome, peak = run_file(path, tmp_path / "out", settings)

    assert outcome.status == "processed" and outcome.thumbnails == 0 and not calls
    doc = json.loads((tmp_path / "out" / "metadata" / "one_tile.fits.fz.json").read_text())
    assert "MAX_TILE_BYTES (4,194,304)" in doc["hdus"][1]["preview"]["skipped"]
    assert peak < 4 * MiB, f"peak {peak / MiB:.1f} MiB"


def test_the_document_size_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "cards.fits"
    path.write_bytes(primary() + extension(2000) * 40)  # 80,000 cards: about 6 MB of JSON
    base = Settings()
    settings = dataclasses.replace(base, limits=dataclasses.replace(base.limits, max_document_bytes=2 * MiB))

    outcome, peak = run_file(path, tmp_path / "out", settings)

    assert outcome.status == "rejected" and outcome.error is not None
    assert outcome.error["class"] == "DocumentSizeLimitError"
    assert "MAX_DOCUMENT_BYTES (2,097,152)" in outcome.error["message"]
    # Refused as the document passes its limit, not at the end: a fraction of the file's cards kept.
    assert peak < 2 * MiB * 20, f"peak {peak / MiB:.0f} MiB"


class ExpiresWhile:
    """A deadline that runs out as soon as it is checked while doing something named ``doing``."""

    def __init__(self, doing: str) -> None:
        self.doing = doing
        self.checked: list[str] = []

    def check(self, doing: str) -> None:
        self.checked.append(doing)
        if self.doing in doing:
            raise TimeLimitError(f"the function's time ran out while {doing}")


def test_the_deadline_is_checked_inside_decompression(tmp_path: Path) -> None:
    path = tmp_path / "big.fits.gz"
    raw = fits.PrimaryHDU(np.zeros((2048, 2048), dtype=np.float32)).header.tostring().encode()
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(raw)
        f.write(bytes(2048 * 2048 * 4))
    deadline = ExpiresWhile("decompressing")

    outcome, _ = run_file(path, tmp_path / "out", Settings(), deadline)

    assert outcome.error is not None and outcome.error["class"] == "TimeLimitError"
    assert "decompressing the gzip stream" in outcome.error["message"]
