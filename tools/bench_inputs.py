"""The benchmark's inputs, made on the fly with ``fixtures.builders`` and written once to disk.

Every file is deterministic (seeded pixels, literal cards), so two runs read the same bytes.
"""

from __future__ import annotations

import gzip
import math
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.io import fits

from fixtures.builders import drizzle_like, small_image, star_field, tan_wcs_header, tile_compressed

MiB = 1024 * 1024
GiB = 1024 * MiB
WARMUP_KEY = "warmup/drizzle.fits"
#: Small files given to the CLI at once in the "cli" case (the first of the small files'; fewer in a quick run).
CLI_FILES = 40


@dataclass(frozen=True)
class Sizes:
    """How big the inputs are: the issue's sizes by default, a small set for a smoke run."""

    small_files: int = 200
    large_side: int = 8192
    table_bytes: int = GiB
    compressed_side: int = 4096


FULL = Sizes()
QUICK = Sizes(small_files=10, large_side=2048, table_bytes=64 * MiB, compressed_side=1024)


@dataclass(frozen=True)
class Case:
    """One benchmark case: its objects in the inbox and which figures it is judged on."""

    name: str
    title: str
    keys: tuple[str, ...]
    size: int  # bytes of all its objects
    detail: str


def make_inputs(root: Path, sizes: Sizes = FULL) -> tuple[list[Case], dict[str, Path]]:
    """Write every input under ``root``; returns the cases and the file of each key."""
    files: dict[str, Path] = {}

    def put(key: str, writer) -> Path:  # type: ignore[no-untyped-def]
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        writer(path)
        files[key] = path
        return path

    started = time.perf_counter()
    put(WARMUP_KEY, lambda p: drizzle_like().writeto(p))
    side, cside, small_files = sizes.large_side, sizes.compressed_side, sizes.small_files
    small_keys = tuple(f"small/drizzle-{i:03d}.fits" for i in range(small_files))
    cli_keys = small_keys[:CLI_FILES]
    for i, key in enumerate(small_keys):
        put(key, lambda p, i=i: drizzle_like(seed=100 + i).writeto(p))
    large = f"large/image-{side}.fits"
    table = f"table/catalogue-{_human(sizes.table_bytes).replace(' ', '').lower()}.fits"
    rice, gz = f"rice/image-{cside}.fits.fz", f"gzip/image-{cside}.fits.gz"
    put(large, lambda p: _large_image(p, side))
    put(table, lambda p: _table(p, sizes.table_bytes))
    put(rice, lambda p: tile_compressed((cside, cside)).writeto(p))
    put(gz, lambda p: _gzip_image(p, cside))
    print(f"inputs written to {root} in {time.perf_counter() - started:.1f} s", flush=True)

    def size(keys: tuple[str, ...]) -> int:
        return sum(files[k].stat().st_size for k in keys)

    cases = [
        Case("small", f"{small_files} small files", small_keys, size(small_keys),
             "drizzle-like: empty PRIMARY + two float32 100x100 extensions with TAN WCS"),
        Case("cli", f"{len(cli_keys)} small files, whole processes", cli_keys, size(cli_keys),
             f"the first {len(cli_keys)} small files as `s3://` URIs to one `python -m handlers process`, "
             "against one `python -m tools.bench_baseline` that downloads each in turn"),
        Case("large_image", f"{side}x{side} float32 image", (large,), size((large,)),
             "star field in the PRIMARY, TAN WCS"),
        Case("table", f"{_human(sizes.table_bytes)} binary table", (table,), size((table,)),
             "RA, DEC (D), FLUX (16E, 4x4), NAME (24A): 104 bytes a row"),
        Case("rice", f"{cside}x{cside} Rice tile-compressed", (rice,), size((rice,)),
             "int16 star field, RICE_1, one tile a row (as fpack writes it)"),
        Case("gzip", f"{cside}x{cside} float32 gzip image", (gz,), size((gz,)),
             "whole-file gzip (level 6) of a float32 star field with TAN WCS"),
    ]
    return cases, files


def _human(nbytes: int) -> str:
    return f"{nbytes // GiB} GiB" if nbytes % GiB == 0 else f"{nbytes // MiB} MiB"


def _large_image(path: Path, side: int) -> None:
    shape = (side, side)
    header = tan_wcs_header(150.1191, 2.2058, shape, 0.2)
    header["OBJECT"] = ("COSMOS", "target")
    header["BUNIT"] = ("ADU", "brightness units")
    fits.PrimaryHDU(star_field(shape, seed=7), header).writeto(path)


def _table(path: Path, nbytes: int) -> None:
    """About 1 GiB of rows: a block of seeded rows repeated, written after the two headers."""
    columns = [
        fits.Column(name="RA", format="D", unit="deg"),
        fits.Column(name="DEC", format="D", unit="deg"),
        fits.Column(name="FLUX", format="16E", unit="Jy", dim="(4,4)"),
        fits.Column(name="NAME", format="24A"),
    ]
    table = fits.BinTableHDU.from_columns(columns, nrows=0, name="CATALOG")
    row_dtype = np.dtype([("RA", ">f8"), ("DEC", ">f8"), ("FLUX", ">f4", (4, 4)), ("NAME", "S24")])
    assert row_dtype.itemsize == 104
    rows = math.ceil(nbytes / row_dtype.itemsize)
    table.header["NAXIS2"] = rows
    block_rows = 65536
    rng = np.random.default_rng(11)
    block = np.zeros(block_rows, dtype=row_dtype)
    block["RA"] = 150.0 + rng.random(block_rows)
    block["DEC"] = 2.0 + rng.random(block_rows)
    block["FLUX"] = rng.random((block_rows, 4, 4), dtype=np.float32)
    block["NAME"] = [f"SRC-{i:09d}".encode() for i in range(block_rows)]
    raw = block.tobytes()
    primary = fits.PrimaryHDU()
    primary.header["TELESCOP"] = ("HST", "telescope")
    with path.open("wb") as f:
        f.write(primary.header.tostring().encode("ascii"))
        f.write(table.header.tostring().encode("ascii"))
        left = rows
        while left:
            n = min(left, block_rows)
            f.write(raw[: n * row_dtype.itemsize])
            left -= n
        f.write(b"\0" * (-f.tell() % 2880))


def _gzip_image(path: Path, side: int) -> None:
    plain = path.with_suffix("")  # image-NNNN.fits
    small_image((side, side), seed=9).writeto(plain)
    with plain.open("rb") as src, gzip.open(path, "wb", compresslevel=6) as dst:
        shutil.copyfileobj(src, dst, 4 * MiB)
    plain.unlink()
