"""The baseline: what a user writes first to catalogue a FITS object and draw its previews.

Download the whole object into memory (gunzipping it as astropy reads it, if gzipped),
open it with astropy, read every HDU's data, ZScale each image on its full array, shrink
it with Pillow to 512 pixels, and write a PNG per image and the headers as JSON to the
output bucket.  It is meant to be honest and reasonable, not slow on purpose: one
streaming GET per object, gzip decompressed as it is read, the stretch computed in the
image's own float32 (ZScale's limits as Python floats), Pillow's fast ``thumbnail``
(which reduces by whole factors before resampling), and no work the project does not
also do.  It does less than the project (no WCS, no summary, no NaN transparency, no
checks of truncated files), which only helps it.

As a command, the loop a user writes around it, one object after the other (the bench's
"cli" case times it as a whole process against ``python -m handlers process``)::

    python -m tools.bench_baseline s3://BUCKET/KEY... --out s3://BUCKET [--endpoint-url URL]
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
from astropy.io import fits
from astropy.visualization import ZScaleInterval
from PIL import Image

THUMBNAIL_MAX_SIZE = 512


def process(client: Any, bucket: str, key: str, out_bucket: str) -> int:
    """Ingest ``s3://bucket/key`` into ``out_bucket``; returns the bytes downloaded."""
    body = download(client, bucket, key)
    hdus: list[dict[str, Any]] = []
    stream: Any = io.BytesIO(body)
    if body[:2] == b"\x1f\x8b":  # astropy does not look for gzip in a BytesIO: decompress as it reads
        stream = gzip.GzipFile(fileobj=stream)
    with fits.open(stream) as hdul:
        for index, hdu in enumerate(hdul):
            data = hdu.data  # every array, read
            doc: dict[str, Any] = {
                "index": index,
                "name": hdu.name,
                "type": type(hdu).__name__,
                "cards": [{"keyword": c.keyword, "value": _jsonable(c.value), "comment": c.comment}
                          for c in hdu.header.cards],
                "shape": list(data.shape) if data is not None else [],
                "thumbnail": None,
            }
            if isinstance(hdu, (fits.PrimaryHDU, fits.ImageHDU, fits.CompImageHDU)) and data is not None \
                    and data.ndim >= 2:
                plane = data[tuple(n // 2 for n in data.shape[:-2])]  # the middle plane of a cube
                thumb_key = f"thumbnails/{key}/{index}-{hdu.name}.png"
                put(client, out_bucket, thumb_key, thumbnail_png(plane), "image/png")
                doc["thumbnail"] = thumb_key
            hdus.append(doc)
    document = json.dumps({"source": {"bucket": bucket, "key": key, "size": len(body)}, "hdus": hdus})
    put(client, out_bucket, f"metadata/{key}.json", document.encode(), "application/json")
    return len(body)


def download(client: Any, bucket: str, key: str) -> bytes:
    """The whole object, in one streaming GET."""
    return client.get_object(Bucket=bucket, Key=key)["Body"].read()


def put(client: Any, bucket: str, key: str, body: bytes, content_type: str) -> None:
    client.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)


def thumbnail_png(image: np.ndarray) -> bytes:
    """ZScale on the full array, a linear stretch to 8 bits, row 0 at the bottom, at most 512 pixels."""
    vmin, vmax = (float(v) for v in ZScaleInterval().get_limits(image))  # Python floats: float32 stays float32
    scale = 1.0 / (vmax - vmin) if vmax > vmin else 0.0
    scaled = np.clip((image - vmin) * scale, 0.0, 1.0)
    pixels = np.nan_to_num(scaled[::-1] * 255.0).astype(np.uint8)
    picture = Image.fromarray(pixels)
    picture.thumbnail((THUMBNAIL_MAX_SIZE, THUMBNAIL_MAX_SIZE))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def _jsonable(value: Any) -> Any:
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    return str(value)


def main(argv: Sequence[str] | None = None) -> int:
    """Each ``s3://`` URI in turn, with a default boto3 client (the environment's credentials)."""
    import boto3

    parser = argparse.ArgumentParser(prog="python -m tools.bench_baseline", description=main.__doc__)
    parser.add_argument("inputs", nargs="+", metavar="S3_URI")
    parser.add_argument("--out", required=True, metavar="s3://BUCKET")
    parser.add_argument("--endpoint-url")
    args = parser.parse_args(argv)
    try:
        objects = [split_s3_uri(uri) for uri in args.inputs]
        out_bucket, prefix = split_s3_uri(args.out, key_required=False)
    except ValueError as exc:
        parser.error(str(exc))
    if prefix:
        parser.error(f"--out is a bucket, not {args.out!r}")
    client = boto3.client("s3", endpoint_url=args.endpoint_url)
    total = sum(process(client, bucket, key, out_bucket) for bucket, key in objects)
    print(f"{len(objects)} object(s), {total:,} bytes downloaded")
    return 0


def split_s3_uri(uri: str, key_required: bool = True) -> tuple[str, str]:
    """``s3://bucket/key`` as (bucket, key); the key may be empty only when not ``key_required``."""
    if not uri.startswith("s3://"):
        raise ValueError(f"not an s3:// URI: {uri!r}")
    bucket, _, key = uri[len("s3://"):].partition("/")
    if not bucket or (key_required and not key):
        raise ValueError(f"{uri!r} names no {'object' if bucket else 'bucket'}")
    return bucket, key


if __name__ == "__main__":
    sys.exit(main())
