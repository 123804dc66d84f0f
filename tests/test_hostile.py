"""Hostile inputs, made here: each ends in metadata or a named error record, within bounded memory.

The whole set runs through the CLI in one child process whose peak RSS is measured; the
default limits apply (MAX_HEADER_CARDS 100,000, MAX_HDUS 1,000, MAX_DECOMPRESSED_BYTES 1 GiB).
"""

from __future__ import annotations

import gzip
import io
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from .support import DRIZZLE, blocks, card, image_bytes, process_measuring_rss

MiB = 1024 * 1024
PEAK_LIMIT = 512 * MiB
def no_end_header() -> bytes:
    """A header that never ends: 30 MB of cards, far past MAX_HEADER_CARDS."""
    head = b"".join(card(text) for text in (
        "SIMPLE  =                    T", "BITPIX  =                    8", "NAXIS   =                    0"))
    return head + card("COMMENT no END here") * (30 * MiB // 80)


def non_ascii_header() -> bytes:
    header = image_bytes(np.ones((8, 8), dtype=np.float32), OBJECT="M31")
    return header.replace(b"OBJECT  = 'M31     '", "OBJECT  = 'Mü31é   '".encode("latin-1"), 1)


def claims_terabytes() -> bytes:
    cards = [card("SIMPLE  =                    T"), card("BITPIX  =                  -64"),
             card("NAXIS   =                    2"), card("NAXIS1  =              1000000"),
             card("NAXIS2  =              1000000"), card("END")]
    return blocks(b"".join(cards)) + bytes(2880)


def gzip_bomb() -> bytes:
    """Two GiB of zeros after a FITS header, in about 2 MB of gzip (repeated gzip members)."""
    member = gzip.compress(bytes(16 * MiB), compresslevel=9, mtime=0)
    header = gzip.compress(image_bytes(np.zeros((1, 1), dtype=np.uint8))[:2880], mtime=0)
    return header + member * 128


def corrupt_tiles() -> bytes:
    rng = np.random.default_rng(9)
    buffer = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(rng.integers(0, 4000, (256, 256)).astype(np.int16),
                                                        compression_type="RICE_1")]).writeto(buffer)
    raw = bytearray(buffer.getvalue())
    with fits.open(io.BytesIO(bytes(raw))) as hdul:
        start = hdul.fileinfo(1)["datLoc"] + 256 * 8  # past the tile table: into the heap
    raw[start : start + 4000] = rng.integers(0, 256, 4000, dtype=np.uint8).tobytes()
    return bytes(raw)


def many_cards() -> bytes:
    cards = [card("SIMPLE  =                    T"), card("BITPIX  =                    8"),
             card("NAXIS   =                    0")]
    cards += [card(f"K{i:07d}= {i:20d} / card {i}") for i in range(100_000)]
    return blocks(b"".join(cards) + card("END"))


def many_hdus(count: int) -> bytes:
    rng = np.random.default_rng(11)
    hdus = [fits.PrimaryHDU()] + [fits.ImageHDU(rng.random((4, 4)).astype(np.float32), name=f"CCD{i}")
                                  for i in range(count)]
    buffer = io.BytesIO()
    fits.HDUList(hdus).writeto(buffer)
    return buffer.getvalue()


def truncated_data() -> bytes:
    raw = DRIZZLE.read_bytes()
    return raw[: len(raw) - 20000]


HOSTILE: dict[str, tuple[Callable[[], bytes], str]] = {
    "zero.fits": (lambda: b"", "NotFitsError"),
    "random.fits": (lambda: np.random.default_rng(1).bytes(100_000), "NotFitsError"),
    "no_end_small.fits": (lambda: blocks(card("SIMPLE  =                    T") * 3), "CorruptFitsError"),
    "no_end_huge.fits": (no_end_header, "HeaderCardsLimitError"),
    "non_ascii.fits": (non_ascii_header, "metadata"),
    "terabytes.fits": (claims_terabytes, "TruncatedFitsError"),
    "truncated_data.fits": (truncated_data, "TruncatedFitsError"),
    "bomb.fits.gz": (gzip_bomb, "DecompressedSizeLimitError"),
    "corrupt_tiles.fits.fz": (corrupt_tiles, "CorruptFitsError"),
    "cards_100000.fits": (many_cards, "HeaderCardsLimitError"),
    "hdus_3000.fits": (lambda: many_hdus(3000), "HduCountLimitError"),
    "hdus_300.fits": (lambda: many_hdus(300), "metadata"),
    "all_nan.fits": (lambda: image_bytes(np.full((50, 40), np.nan, dtype=np.float32)), "metadata"),
    "constant.fits": (lambda: image_bytes(np.full((50, 40), 3.0, dtype=np.float32)), "metadata"),
    "one_pixel.fits": (lambda: image_bytes(np.ones((1, 1), dtype=np.float32)), "metadata"),
    "thin_3x10000.fits": (lambda: image_bytes(np.arange(30000, dtype=np.float32).reshape(3, 10000)), "metadata"),
    "uint16.fits": (lambda: image_bytes(np.arange(0, 65536, 16, dtype=np.uint16).reshape(64, 64)), "metadata"),
    "cube.fits": (lambda: image_bytes(np.arange(5 * 30 * 20, dtype=np.float32).reshape(5, 30, 20)), "metadata"),
}


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path, int]:
    folder = tmp_path_factory.mktemp("hostile")
    paths = []
    for name, (make, _) in HOSTILE.items():
        path = folder / name
        path.write_bytes(make())
        paths.append(str(path))
    out = folder / "out"
    run, peak = process_measuring_rss(paths, out)
    return run, out, peak


def test_no_traceback_and_bounded_memory(hostile_run: tuple[subprocess.CompletedProcess[str], Path, int]) -> None:
    run, _, peak = hostile_run
    assert "Traceback" not in run.stdout + run.stderr, run.stderr[-3000:]
    assert run.returncode == 1  # some inputs rejected, none crashed
    assert peak < PEAK_LIMIT, f"peak RSS {peak / MiB:.0f} MiB"
    print(f"\nhostile set: peak RSS {peak / MiB:.0f} MiB\n" + run.stdout)


@pytest.mark.parametrize("name", list(HOSTILE))
def test_each_hostile_input_has_the_right_outcome(
    hostile_run: tuple[subprocess.CompletedProcess[str], Path, int], name: str
) -> None:
    _, out, _ = hostile_run
    expected = HOSTILE[name][1]
    metadata, error = out / "metadata" / f"{name}.json", out / "errors" / f"{name}.json"
    if expected == "metadata":
        assert metadata.exists() and not error.exists(), error.read_text() if error.exists() else ""
        doc = json.loads(metadata.read_text())
        images = [h for h in doc["hdus"] if len(h.get("shape", [])) >= 2 and min(h["shape"][-2:]) > 1]
        drawn = [h for h in images if h["thumbnail"]]
        assert len(drawn) == min(len(images), 100)  # MAX_THUMBNAILS
        with_data = [h for h in doc["hdus"] if h.get("shape") or "rows" in h]
        assert all(bool(h["thumbnail"]) != bool((h["preview"] or {}).get("skipped")) for h in with_data)
        assert all((out / h["thumbnail"]).read_bytes().startswith(b"\x89PNG") for h in drawn)
    else:
        assert error.exists() and not metadata.exists()
        assert json.loads(error.read_text())["error"]["class"] == expected


def test_the_thumbnail_cap_is_recorded(hostile_run: tuple[subprocess.CompletedProcess[str], Path, int]) -> None:
    _, out, _ = hostile_run
    doc = json.loads((out / "metadata" / "hdus_300.fits.json").read_text())
    assert len(doc["hdus"]) == 301
    assert doc["hdus"][101]["thumbnail"] is None
    assert doc["hdus"][101]["preview"] == {"skipped": "MAX_THUMBNAILS (100) already drawn"}


def test_non_ascii_header_bytes_are_kept_visible(
    hostile_run: tuple[subprocess.CompletedProcess[str], Path, int],
) -> None:
    _, out, _ = hostile_run
    doc = json.loads((out / "metadata" / "non_ascii.fits.json").read_text())
    value = next(c["value"] for c in doc["hdus"][0]["cards"] if c["keyword"] == "OBJECT")
    assert value.startswith("M") and value != "M31"
    assert any("non-ASCII" in w or "ASCII" in w for w in doc["warnings"])
