"""Read-ahead: what a thumbnail reads in order is fetched in parallel parts, each byte once.

Counted requests and bytes, on a counting fetch and on moto: a tile-compressed image's
heap costs a request per part instead of one per tile block, a plain image's plane a
request per part, a small object one GET, and the pictures are the same as when drawn
from the whole array in memory.
"""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from astropy.io import fits
from PIL import Image

from fixtures.builders import star_field, tile_compressed
from handlers import ingest
from handlers.aws import warm
from handlers.config import ReadSettings, Settings
from handlers.fits.previews.images import plan_thumbnail, reduce_image, render_png
from handlers.storage.readahead import PartStream
from handlers.storage.reader import BlockCache

from .support import DRIZZLE, FIXTURES, INBOX, RequestLog, output_keys, read_json, read_output, record_requests, upload

KiB = 1024


class CountingFetch:
    """``fetch(start, end)`` over ``data``, remembering every range asked for."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.ranges: list[tuple[int, int]] = []
        self._lock = threading.Lock()

    def __call__(self, start: int, end: int) -> bytes:
        with self._lock:
            self.ranges.append((start, end))
        return self.data[start:end]


def test_a_range_read_in_order_is_fetched_once_in_aligned_parts() -> None:
    data = bytes(range(256)) * 400  # 102,400 bytes
    fetch = CountingFetch(data)
    stream = PartStream(fetch, 1000, 101_000, part_bytes=10_000, depth=3)
    pieces = [stream.read(pos, min(pos + 777, 101_000)) for pos in range(1000, 101_000, 777)]
    stream.close()

    assert b"".join(pieces) == data[1000:101_000]
    assert sorted(fetch.ranges) == [(lo, min(lo + 10_000, 101_000)) for lo in range(1000, 101_000, 10_000)]


def test_parts_ahead_are_bounded_by_the_depth() -> None:
    fetch = CountingFetch(bytes(1_000_000))
    stream = PartStream(fetch, 0, 1_000_000, part_bytes=10_000, depth=4)
    assert stream.read(0, 100) == bytes(100)
    stream.close()
    assert len(fetch.ranges) <= 4  # the part read and at most three ahead, never the whole range


def test_going_back_is_left_to_the_caller_and_a_jump_ahead_skips_parts() -> None:
    data = bytes(range(256)) * 1000
    fetch = CountingFetch(data)
    stream = PartStream(fetch, 0, len(data), part_bytes=1000, depth=2)
    assert stream.read(5000, 5010) == data[5000:5010]
    assert stream.read(100, 200) is None  # behind the parts held
    assert stream.read(200_000, 200_010) == data[200_000:200_010]
    assert stream.read(len(data) - 5, len(data) + 5) is None  # beyond the range
    stream.close()
    fetched = {start for start, _ in fetch.ranges}
    assert 0 not in fetched and 5000 in fetched and 200_000 in fetched
    assert len(fetched) <= 4


def reference_png(pixels: np.ndarray) -> bytes:
    """The thumbnail drawn from the whole array in memory, with the default settings."""
    settings = Settings().thumbnails
    plan = plan_thumbnail(pixels.shape, settings)
    assert plan is not None
    image = reduce_image(lambda a, b: pixels[a:b], pixels.shape[0], plan)
    return render_png(image, settings)[0]


def recorded_with(monkeypatch: pytest.MonkeyPatch, **env: str) -> RequestLog:
    """The handler's settings and client built anew with ``env``, and its requests recorded."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    warm.reset()
    return record_requests(warm.s3_client())


def test_a_tile_compressed_heap_is_read_in_parts_not_tile_by_tile(
    s3: Any, context: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    requests_sent = recorded_with(monkeypatch, READ_PART_BYTES=str(256 * KiB))
    path = tmp_path / "rice.fits.fz"
    tile_compressed((1024, 1024)).writeto(path)  # one tile a row, as fpack writes it
    upload(s3, "deep/rice.fits.fz", path)

    ingest.handler({"uris": [f"s3://{INBOX}/deep/rice.fits.fz"]}, context)

    doc = read_json(s3, "metadata/deep/rice.fits.fz.json")
    with fits.open(path) as hdul:
        span = hdul[1].fileinfo()["datSpan"]
        pixels = hdul[1].data
    parts = -(-span // (256 * KiB))
    header_reads = 3
    assert len(requests_sent.gets_on(INBOX)) <= parts + header_reads
    assert doc["processor"]["bytes_read"] < path.stat().st_size + (256 + 64) * KiB
    png = read_output(s3, doc["hdus"][1]["thumbnail"])
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(png))), np.asarray(Image.open(io.BytesIO(
        reference_png(pixels.astype(np.float64))))))


def test_a_plain_image_plane_is_fetched_once_in_parts(
    s3: Any, context: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Row blocks of 300 KiB straddle the parts of 512 KiB.
    requests_sent = recorded_with(monkeypatch, READ_PART_BYTES=str(512 * KiB), THUMBNAIL_BLOCK_BYTES=str(300 * KiB))
    pixels = star_field((1500, 1100), seed=9)
    path = tmp_path / "field.fits"
    fits.PrimaryHDU(pixels).writeto(path)
    upload(s3, "deep/field.fits", path)

    ingest.handler({"uris": [f"s3://{INBOX}/deep/field.fits"]}, context)

    doc = read_json(s3, "metadata/deep/field.fits.json")
    plane = pixels.nbytes
    ranges = requests_sent.gets_on(INBOX)
    # The GET that learns the size (its body left unread: the object is over READ_WHOLE_OBJECT_BYTES),
    # the header block, then the plane's parts.
    assert ranges[0] == f"bytes=0-{ReadSettings().whole_object - 1}"
    assert len(ranges) == 2 + -(-plane // (512 * KiB))
    assert doc["processor"]["bytes_read"] == 64 * KiB + plane
    png = read_output(s3, "thumbnails/deep/field.fits/0-PRIMARY.png")
    assert png == reference_png(pixels.astype(np.float64))


@pytest.mark.parametrize("path", [DRIZZLE, FIXTURES / "tile_compressed.fits.fz"], ids=lambda p: p.name)
def test_a_small_object_costs_one_get(s3: Any, requests_sent: RequestLog, context: Any, path: Path) -> None:
    upload(s3, f"obs/{path.name}", path)
    requests_sent.calls.clear()

    ingest.handler({"uris": [f"s3://{INBOX}/obs/{path.name}"]}, context)

    # The first READ_WHOLE_OBJECT_BYTES asked for, to learn the size: the object is all of them.
    assert path.stat().st_size < ReadSettings().whole_object
    assert requests_sent.gets_on(INBOX) == [f"bytes=0-{ReadSettings().whole_object - 1}"]
    assert requests_sent.on_bucket(INBOX) == 1
    assert len(output_keys(s3, prefix=f"thumbnails/obs/{path.name}/")) >= 1


def test_the_block_cache_fetches_aligned_blocks_and_keeps_the_last_used() -> None:
    data = bytes(range(256)) * 40  # 10,240 bytes: blocks 0 and 1 whole, block 2 in part
    fetched: list[tuple[int, int]] = []

    def fetch(start: int, end: int) -> bytes:
        fetched.append((start, end))
        return data[start:end]

    cache = BlockCache(4096, fetch, kept=2)
    assert cache.read(4000, 4200) == data[4000:4200]  # across blocks 0 and 1
    assert cache.read(10, 20) == data[10:20]  # block 0 kept: used last
    assert cache.read(9000, 10240) == data[9000:]  # block 2 in place of block 1
    assert cache.read(0, 5) == data[:5] and cache.read(8192, 8200) == data[8192:8200]
    assert cache.read(4096, 4100) == data[4096:4100]  # block 1 fetched again
    assert fetched == [(0, 4096), (4096, 8192), (8192, 12288), (4096, 8192)]
