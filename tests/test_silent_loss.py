"""Nothing lost without a word: a cut header is an error naming its HDU, bytes after the last HDU a warning.

astropy reads an extension it cannot parse as the end of the file (an IndexError from its
lazy HDU list), so without these checks such a file gave metadata for its first HDUs only.
"""

from __future__ import annotations

import io
import json
import tracemalloc
from pathlib import Path

import numpy as np
from astropy.io import fits

from handlers.config import Settings
from handlers.pipeline import Outcome, process
from handlers.storage.local_source import LocalSource
from handlers.storage.outputs import FolderOutput

MiB = 1024 * 1024
#: What reading these small files may take: the headers and the few pixels, not the trailing bytes.
PEAK_LIMIT = 16 * MiB


def two_images() -> tuple[bytes, int]:
    """A primary image and an extension; the byte where the extension's header starts."""
    buffer = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(np.ones((8, 8), dtype=np.float32)),
                  fits.ImageHDU(np.ones((8, 8), dtype=np.float32), name="SCI")]).writeto(buffer)
    with fits.open(io.BytesIO(buffer.getvalue())) as hdul:
        start = int(hdul.fileinfo(1)["hdrLoc"])
    return buffer.getvalue(), start


def run_bytes(tmp_path: Path, name: str, raw: bytes) -> tuple[Outcome, Path, int]:
    path = tmp_path / name
    path.write_bytes(raw)
    settings = Settings()
    # Once untraced, so that the modules the pipeline imports lazily are not counted as the input's cost.
    process(LocalSource(str(path), settings.reads), FolderOutput(tmp_path / "warm-up"), settings)
    tracemalloc.start()
    try:
        outcome = process(LocalSource(str(path), settings.reads), FolderOutput(tmp_path / "out"), settings)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return outcome, tmp_path / "out", peak


def test_an_extension_header_cut_in_a_card_is_truncated_naming_the_hdu(tmp_path: Path) -> None:
    raw, start = two_images()
    outcome, out, peak = run_bytes(tmp_path, "cut.fits", raw[: start + 5 * 80 + 40])  # in the sixth card

    assert outcome.status == "rejected" and not (out / "metadata" / "cut.fits.json").exists()
    record = json.loads((out / "errors" / "cut.fits.json").read_text())["error"]
    assert record["class"] == "TruncatedFitsError"
    assert record["message"].startswith(f"HDU 1's header (from byte {start:,}) is cut off")
    assert "Traceback" not in json.dumps(record)
    assert peak < PEAK_LIMIT, f"peak {peak / MiB:.1f} MiB"


def test_an_extension_header_astropy_cannot_read_is_corrupt_naming_the_hdu(tmp_path: Path) -> None:
    raw, start = two_images()
    # Complete, with its END, but a byte astropy refuses: its lazy list then reads as ending here.
    header = b"XTENSION= 'IMAGE   '".ljust(80) + b"BITPIX  = \xff".ljust(80) + b"END".ljust(80)
    broken = raw[:start] + header.ljust(2880)

    outcome, out, _ = run_bytes(tmp_path, "broken.fits", broken)

    record = json.loads((out / "errors" / "broken.fits.json").read_text())["error"]
    assert outcome.status == "rejected" and record["class"] == "CorruptFitsError"
    assert record["message"] == f"HDU 1 (from byte {start:,}) cannot be read as an HDU"


def test_bytes_after_the_last_hdu_are_a_warning(tmp_path: Path) -> None:
    raw, _ = two_images()
    garbage = np.random.default_rng(5).bytes(MiB)

    outcome, out, peak = run_bytes(tmp_path, "trailing.fits", raw + garbage)

    assert outcome.status == "processed" and outcome.hdus == 2 and outcome.thumbnails == 2
    doc = json.loads((out / "metadata" / "trailing.fits.json").read_text())
    assert f"UserWarning: {MiB:,} bytes after the last HDU (from byte {len(raw):,}) are not an HDU " \
           "(no XTENSION card): they were not read" in doc["warnings"]
    assert peak < PEAK_LIMIT, f"peak {peak / MiB:.1f} MiB"  # the trailing mebibyte is not read as a header
