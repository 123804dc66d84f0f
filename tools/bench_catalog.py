"""``make bench``'s catalog case: a cone search against a full scan on 1,000,000 rows, and the rebuild's rate.

    python -m tools.bench_catalog [--rows 1000000] [--documents 10000] [--no-docs]

On SeaweedFS (``tools.bench_stores``), two ``obscore`` tables of ``--rows`` synthetic rows each,
written by the catalog's own writer (``build.write_partitions``: its partitions, order and file
sizes), spread over the sky like a survey in two ways:

- **uniform**: positions uniform on the sphere (RA uniform, sin Dec uniform);
- **clustered**: 1,000 fields, their centres uniform on the sphere and M31 among them, each row
  within its field as a Gaussian of 0.3 degrees (a survey's dithered pointings).

On each, a 1-degree cone around M31 (``cone.cone``, reading the partitions it overlaps) and the same
query over every file (a full scan), each timed (median of 3) with the bytes pyarrow read counted
through a counting filesystem; the same rows must come back.  Then ``--documents`` metadata
documents are uploaded and ``catalog rebuild`` is timed on them: documents per second.  The results
are printed and written to the "Catalog" section at the end of ``docs/benchmarks.md``, which this
run replaces (``make bench`` runs it after ``tools.bench``, which writes the rest of that file).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import astropy.units as u
import boto3
import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.fs as pafs
from astropy.coordinates import Latitude, Longitude
from cdshealpix import nested

from handlers.catalog.build import BuildReport, rebuild, write_partitions
from handlers.catalog.cone import cone, cone_sql
from handlers.catalog.layout import OBSCORE, PARTITION_ORDER
from handlers.catalog.query import Scan, query, scan
from handlers.catalog.schema import OBSCORE_SCHEMA
from handlers.catalog.sky import MAX_ORDER
from handlers.catalog.store import BucketStore
from handlers.layout import metadata_key
from tools.bench import machine_info
from tools.bench_stores import client_env, seaweedfs_store
from tools.catalog_synthetic import INSTRUMENTS, M31, body, document

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
SECTION = "## Catalog"
RADIUS_DEG = 1.0
#: The target: a cone reads at most this share of the catalog's bytes (its files' sizes).
CONE_SHARE = 0.02
FIELDS, FIELD_SIGMA_DEG = 1000, 0.3
TIMED = 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench_catalog", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--no-docs", action="store_true", help="print only; leave docs/ alone")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {
        "rows": args.rows, "documents": args.documents, "sky": {},
        "started": datetime.now(UTC).isoformat(timespec="seconds"), "machine": _machine(),
        "load": ", ".join(f"{value:.1f}" for value in os.getloadavg()),
    }
    with tempfile.TemporaryDirectory(prefix="catalog-bench-") as workdir, seaweedfs_store(Path(workdir)) as store:
        env = client_env(store)
        client = boto3.client("s3", endpoint_url=store.url, region_name=env["AWS_DEFAULT_REGION"],
                              aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                              aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])
        filesystem = pafs.S3FileSystem(endpoint_override=store.url, region=env["AWS_DEFAULT_REGION"],
                                       access_key=env["AWS_ACCESS_KEY_ID"], secret_key=env["AWS_SECRET_ACCESS_KEY"])
        results["store"] = store.label
        for sky, positions in (("uniform", uniform), ("clustered", clustered)):
            bucket = f"catalog-{sky}"
            client.create_bucket(Bucket=bucket)
            catalog = CountingStore(client, bucket, filesystem)
            results["sky"][sky] = measure_sky(catalog, positions(args.rows, np.random.default_rng(29)))
            print(f"{sky}: {describe(results['sky'][sky])}", flush=True)
        client.create_bucket(Bucket="catalog-rebuild")
        results["rebuild"] = measure_rebuild(CountingStore(client, "catalog-rebuild", filesystem), args.documents)
        print(f"rebuild: {results['rebuild']['documents']:,} documents in {results['rebuild']['seconds']:.1f} s, "
              f"{results['rebuild']['rate']:,.0f} documents/s", flush=True)
    text = markdown(results)
    print(text)
    if not args.no_docs:
        write_section(DOCS, text)
        print(f"wrote {DOCS}")
    return 0


# The sky ---------------------------------------------------------------------------------------


def uniform(count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    return rng.uniform(0, 360, count), np.degrees(np.arcsin(rng.uniform(-1, 1, count)))


def clustered(count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Rows about ``FIELDS`` centres (M31 the first), each a Gaussian of ``FIELD_SIGMA_DEG`` on the tangent plane."""
    centre_ra, centre_dec = uniform(FIELDS, rng)
    centre_ra[0], centre_dec[0] = M31
    field = rng.integers(0, FIELDS, count)
    dec = np.clip(centre_dec[field] + rng.normal(0, FIELD_SIGMA_DEG, count), -90, 90)
    ra = (centre_ra[field] + rng.normal(0, FIELD_SIGMA_DEG, count) / np.maximum(np.cos(np.radians(dec)), 1e-3)) % 360
    return ra, dec


def synthetic_rows(ra: np.ndarray, dec: np.ndarray) -> pa.Table:
    """``obscore`` rows as a survey's: its position, times, instrument and provenance; other columns null."""
    count = len(ra)
    number = np.arange(count)
    healpix = nested.lonlat_to_healpix(Longitude(ra, u.deg), Latitude(dec, u.deg), MAX_ORDER).astype(np.int64)
    exposure = np.array([30.0, 300.0, 600.0, 1200.0])[number % 4]
    t_min = 60000 + (number % 365) + 0.3
    keys = pa.array([f"survey/obs-{n:07d}.fits" for n in number])
    columns: dict[str, Any] = {
        "dataproduct_type": pa.array(["image"] * count), "calib_level": pa.array(number % 4, pa.int32()),
        "obs_collection": pa.array(["SURVEY"] * count), "obs_id": pa.array([f"obs{n:07d}" for n in number]),
        "target_name": pa.array([f"FIELD-{n % FIELDS}" for n in number]), "s_ra": ra, "s_dec": dec,
        "s_fov": np.full(count, 0.05), "t_min": t_min, "t_max": t_min + exposure / 86400, "t_exptime": exposure,
        "s_xel1": np.full(count, 4096), "s_xel2": np.full(count, 4096), "em_min": np.full(count, 8.5e-7),
        "em_max": np.full(count, 9.5e-7), "facility_name": pa.array(["HST"] * count),
        "instrument_name": pa.array([INSTRUMENTS[n % len(INSTRUMENTS)] for n in number]),
        "filter": pa.array(["F850LP"] * count), "source_bucket": pa.array(["survey-inbox"] * count),
        "source_key": keys, "source_size": np.full(count, 2880 * 1000),
        "metadata_key": pa.array([metadata_key(key) for key in keys.to_pylist()]),
        "processor_version": pa.array(["0.1.0"] * count), "_healpix_29": healpix,
    }
    arrays = [pa.array(columns[f.name], f.type) if f.name in columns else pa.nulls(count, f.type)
              for f in OBSCORE_SCHEMA]
    return pa.Table.from_arrays(arrays, schema=OBSCORE_SCHEMA)


def by_partition(rows: pa.Table) -> dict[tuple[Any, int | None], pa.Table]:
    """The rows cut at their order-4 pixels (``_healpix_29`` shifted: nested pixels nest)."""
    rows = rows.sort_by("_healpix_29")
    pixels = rows["_healpix_29"].to_numpy() >> (2 * (MAX_ORDER - PARTITION_ORDER))
    starts = np.flatnonzero(np.r_[True, pixels[1:] != pixels[:-1]])
    ends = np.r_[starts[1:], len(pixels)]
    return {(OBSCORE, int(pixels[s])): rows.slice(s, e - s) for s, e in zip(starts, ends, strict=True)}


# Counting what pyarrow reads -------------------------------------------------------------------


class CountingStore(BucketStore):
    """A bucket whose query reads go through ``Counting``: the bytes a query read, not the files' sizes."""

    def __init__(self, client: Any, bucket: str, filesystem: pafs.S3FileSystem) -> None:
        super().__init__(client, bucket)
        self.counter = Counting(filesystem)

    def arrow_filesystem(self) -> pafs.FileSystem:
        return pafs.PyFileSystem(self.counter)


class _CountedFile:
    def __init__(self, inner: Any, counter: Counting) -> None:
        self.inner, self.counter, self.closed = inner, counter, False

    def read(self, size: int = -1) -> bytes:
        data: bytes = self.inner.read(size) if size is not None and size >= 0 else self.inner.read()
        self.counter.bytes += len(data)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        return int(self.inner.seek(offset, whence))

    def tell(self) -> int:
        return int(self.inner.tell())

    def close(self) -> None:
        self.closed = True
        self.inner.close()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True


class Counting(pafs.FileSystemHandler):  # type: ignore[misc]
    """pyarrow's S3 filesystem, reads counted; only what a dataset scan calls is passed on."""

    def __init__(self, inner: pafs.S3FileSystem) -> None:
        self.inner, self.bytes = inner, 0

    def open_input_file(self, path: str) -> pa.NativeFile:
        return pa.PythonFile(_CountedFile(self.inner.open_input_file(path), self), mode="r")

    def open_input_stream(self, path: str) -> pa.NativeFile:
        return self.open_input_file(path)

    def get_file_info(self, paths: list[str]) -> list[pafs.FileInfo]:
        return self.inner.get_file_info(paths)

    def get_file_info_selector(self, selector: pafs.FileSelector) -> list[pafs.FileInfo]:
        return self.inner.get_file_info(selector)

    def normalize_path(self, path: str) -> str:
        return path

    def get_type_name(self) -> str:
        return "counting-s3"

    def equals(self, other: Any) -> bool:
        return self is other

    def _refused(self, *args: Any) -> None:
        raise NotImplementedError("the benchmark's filesystem only reads")

    create_dir = delete_dir = delete_dir_contents = delete_root_dir_contents = delete_file = _refused
    move = copy_file = open_output_stream = open_append_stream = _refused


# Measurements ----------------------------------------------------------------------------------


@dataclass
class Timed:
    seconds: float
    bytes: int
    rows: set[str]


def timed(store: CountingStore, run: Callable[[], pa.Table]) -> Timed:
    """The median of ``TIMED`` runs; the bytes of one (each run reads the same)."""
    times, counted, keys = [], 0, set()
    for _ in range(TIMED):
        store.counter.bytes = 0
        started = time.perf_counter()
        rows = run()
        times.append(time.perf_counter() - started)
        counted, keys = store.counter.bytes, set(rows["metadata_key"].to_pylist())
    return Timed(statistics.median(times), counted, keys)


def measure_sky(store: CountingStore, positions: tuple[np.ndarray, np.ndarray]) -> dict[str, Any]:
    started = time.perf_counter()
    rows = synthetic_rows(*positions)
    partitions = by_partition(rows)
    report = BuildReport()
    write_partitions(store, partitions, report)
    written_s = time.perf_counter() - started
    everything = scan(store)
    size = everything.bytes(OBSCORE)
    sql = cone_sql(*M31, RADIUS_DEG)
    cone_run = timed(store, lambda: cone(store, *M31, RADIUS_DEG).rows)
    full_run = timed(store, lambda: query(store, sql, everything))
    if cone_run.rows != full_run.rows:
        raise RuntimeError(f"the cone found {len(cone_run.rows)} rows, the full scan {len(full_run.rows)}")
    plan: Scan = cone(store, *M31, RADIUS_DEG).scan
    return {
        "rows": rows.num_rows, "files": len(report.written), "partitions": len(partitions), "bytes": size,
        "written_s": written_s, "found": len(cone_run.rows), "cone_files": len(plan.files[OBSCORE.name]),
        "cone": {"seconds": cone_run.seconds, "bytes": cone_run.bytes},
        "full": {"seconds": full_run.seconds, "bytes": full_run.bytes},
    }


def measure_rebuild(store: CountingStore, count: int) -> dict[str, Any]:
    rng = np.random.default_rng(3)
    documents = {metadata_key(f"survey/obs-{n:07d}.fits"): body(document(n, *_position(rng), rng))
                 for n in range(count)}
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda item: store.client.put_object(Bucket=store.bucket, Key=item[0], Body=item[1]),
                      documents.items()))
    report = rebuild(store)
    if report.documents != count:
        raise RuntimeError(f"rebuild took in {report.documents} of {count} documents")
    return {"documents": count, "seconds": report.seconds, "rate": count / report.seconds,
            "files": len(report.written), "card_rows": report.rows.get("cards", 0)}


def _position(rng: np.random.Generator) -> tuple[float, float]:
    ra, dec = uniform(1, rng)
    return float(ra[0]), float(dec[0])


# Report ----------------------------------------------------------------------------------------


def _machine() -> str:
    info = machine_info()
    return (f"{info['cpu']}, {info['cores']} cores, {info['memory_gib'] or 0:.0f} GiB, Python {info['python']}, "
            f"pyarrow {pa.__version__}, DuckDB {duckdb.__version__}, commit {info['commit']}")


def describe(sky: dict[str, Any]) -> str:
    return (f"{sky['rows']:,} rows in {sky['files']:,} files ({sky['bytes'] / 2**20:,.1f} MiB), written in "
            f"{sky['written_s']:.1f} s; cone {sky['cone']['bytes']:,} bytes in {sky['cone']['seconds']:.2f} s, "
            f"full scan {sky['full']['bytes']:,} bytes in {sky['full']['seconds']:.2f} s, {sky['found']:,} rows")


def markdown(results: dict[str, Any]) -> str:
    lines = [
        SECTION, "",
        "*Written by `python -m tools.bench_catalog` (run by `make bench` after `tools.bench`).* "
        f"Run {results['started']} on {results['machine']}, load average {results['load']} at the start; "
        f"on {results['store']}: "
        f"two `obscore` tables of {results['rows']:,} synthetic rows each, written by the catalog's own writer, "
        f"one uniform on the sphere, one clustered in {FIELDS:,} fields of σ = {FIELD_SIGMA_DEG}° (M31 among them). "
        f"A {RADIUS_DEG:g}° cone around M31 (`catalog cone`: the partitions it overlaps) against the same query over "
        "every file; bytes are what pyarrow read (counted), times the median of "
        f"{TIMED}. Target: the cone reads ≤ {CONE_SHARE:.0%} of the catalog's bytes. The full scan reads more bytes "
        "than the files hold: on a dataset made afresh for each query, as the CLI makes one, pyarrow reads parts of a "
        "file more than once.",
        "",
        "| sky | rows | files | catalog (bytes) | rows found | cone: files | cone: bytes read | full scan: bytes read "
        "| cone / catalog | cone / full scan | cone (s) | full scan (s) | target |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, sky in results["sky"].items():
        share = sky["cone"]["bytes"] / sky["bytes"]
        lines.append(
            f"| {name} | {sky['rows']:,} | {sky['files']:,} | {sky['bytes']:,} | {sky['found']:,} | "
            f"{sky['cone_files']} | {sky['cone']['bytes']:,} | {sky['full']['bytes']:,} | {share:.2%} | "
            f"{sky['cone']['bytes'] / sky['full']['bytes']:.2%} | "
            f"{sky['cone']['seconds']:.3f} | {sky['full']['seconds']:.3f} | "
            f"{'✅ met' if share <= CONE_SHARE else '❌ MISSED'} |")
    rebuilt = results["rebuild"]
    lines += ["", f"`catalog rebuild` of {rebuilt['documents']:,} metadata documents (uniform positions, 11 cards "
              f"each) in the same store: {rebuilt['seconds']:.1f} s, **{rebuilt['rate']:,.0f} documents/s** "
              f"({rebuilt['files']:,} files written, {rebuilt['card_rows']:,} card rows).", ""]
    return "\n".join(lines)


def write_section(path: Path, text: str) -> None:
    """``text`` as the file's last section, in place of an earlier catalog section."""
    current = path.read_text() if path.exists() else ""
    kept = current.split(f"\n{SECTION}\n", 1)[0].rstrip("\n")
    path.write_text(f"{kept}\n\n{text}" if kept else text)


if __name__ == "__main__":
    raise SystemExit(main())
