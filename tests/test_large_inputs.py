"""Large inputs made on the fly: bytes read from S3 and memory used stay small."""

from __future__ import annotations

import io
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
from astropy.io import fits

from handlers import ingest
from handlers.config import Settings
from handlers.object_ref import ObjectRef
from handlers.pipeline import process
from handlers.storage.outputs import BucketOutput
from handlers.storage.s3_source import S3Source, make_s3_client

from .support import INBOX, RequestLog, read_json, read_output, upload

MiB = 1024 * 1024


def table_header(rows: int) -> fits.Header:
    columns = [
        fits.Column(name="RA", format="D", unit="deg"),
        fits.Column(name="DEC", format="D", unit="deg"),
        fits.Column(name="FLUX", format="16E", unit="Jy", dim="(4,4)"),
        fits.Column(name="NAME", format="24A"),
    ]
    header = fits.BinTableHDU.from_columns(columns, nrows=0).header
    header["NAXIS2"] = rows
    return header


def test_a_256_mib_table_costs_less_than_one_mib_of_reads(
    s3: Any, requests_sent: RequestLog, context: Any, tmp_path: Path
) -> None:
    rows = 256 * MiB // 104 + 1  # 104 bytes a row
    primary = fits.PrimaryHDU()
    primary.header["TELESCOP"] = "TEST"
    path = tmp_path / "catalogue.fits"
    with path.open("wb") as f:
        f.write(primary.header.tostring().encode("ascii"))
    header = table_header(rows)
    with path.open("ab") as f:
        f.write(header.tostring().encode("ascii"))
        size = f.tell() + rows * 104
        f.truncate(size + (-size % 2880))
    assert path.stat().st_size >= 256 * MiB
    upload(s3, "big/catalogue.fits", path)

    ingest.handler({"uris": [f"s3://{INBOX}/big/catalogue.fits"]}, context)

    doc = read_json(s3, "metadata/big/catalogue.fits.json")
    table = doc["hdus"][1]
    assert table["rows"] == rows
    assert [c["name"] for c in table["columns"]] == ["RA", "DEC", "FLUX", "NAME"]
    assert doc["processor"]["bytes_read"] == 64 * 1024  # both headers lie in the first read-ahead block
    ranged = [call for call in requests_sent.calls if call[0] == "GetObject"]
    assert doc["processor"]["requests"] == requests_sent.on_bucket(INBOX) == len(ranged) + 1 == 3
    # The GET that learns the size (its body left unread), the header block, and the HEAD that finds it current.
    assert all(call[3] and call[3].startswith("bytes=") for call in ranged)


def test_a_large_image_thumbnail_uses_a_fraction_of_its_size_in_memory(
    server_buckets: tuple[Any, str, str], moto_endpoint: str, tmp_path: Path
) -> None:
    server_s3, inbox, output = server_buckets
    side = 8192
    header = fits.PrimaryHDU(np.zeros((1, 1), dtype=np.float32)).header
    header["NAXIS1"] = header["NAXIS2"] = side
    path = tmp_path / "deep.fits"
    image_bytes = side * side * 4
    with path.open("wb") as f:
        f.write(header.tostring().encode("ascii"))
        # A recognisable picture: the bottom-left quadrant bright, written row block by row block.
        for start in range(0, side, 1024):
            rows = np.zeros((1024, side), dtype=">f4")
            if start < side // 2:
                rows[:, : side // 2] = 100.0
            rows += np.arange(side, dtype=">f4") * 1e-3
            f.write(rows.tobytes())
        f.truncate(f.tell() + (-f.tell() % 2880))
    upload(server_s3, "deep/field.fits", path, bucket=inbox)
    settings = Settings.from_env({"OUTPUT_BUCKET": output})
    client = make_s3_client(settings.reads, moto_endpoint)
    source = S3Source(client, ObjectRef(inbox, "deep/field.fits"), settings.reads)

    tracemalloc.start()
    try:
        outcome = process(source, BucketOutput(client, output), settings)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert outcome.status == "processed" and outcome.thumbnails == 1
    # What the design bounds memory to, whatever the image's size: the parts read ahead
    # (READ_CONCURRENCY x READ_PART_BYTES) and a few row blocks (THUMBNAIL_BLOCK_BYTES).
    bound = settings.reads.concurrency * settings.reads.part_bytes + 4 * settings.thumbnails.block_bytes
    assert bound <= image_bytes / 2
    assert peak < bound, f"peak {peak / MiB:.1f} MiB for a {image_bytes / MiB:.0f} MiB image"
    assert outcome.bytes_read < image_bytes * 1.01  # every pixel once, nothing read twice
    png = read_output(server_s3, "thumbnails/deep/field.fits/0-PRIMARY.png", bucket=output)
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(png)))
    assert pixels.shape == (512, 512)
    assert pixels[-1, 0] > 200 and pixels[0, -1] < 50  # bright quadrant at the bottom left
    print(f"\nlarge image: peak traced memory {peak / MiB:.1f} MiB for {image_bytes / MiB:.0f} MiB of pixels, "
          f"{outcome.requests} requests")
