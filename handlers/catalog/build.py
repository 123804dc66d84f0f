"""The catalog's tables from the metadata documents: all of them (``rebuild``), or a few keys' (``update``).

A rebuild lists ``metadata/`` (paginated), reads the documents in parallel with a progress bar,
writes every partition's files, then deletes the catalog files it did not write: the same
documents give the same files, byte for byte.  An update rewrites only the partitions that hold,
or held, the keys it is given.  Files are written before any is deleted, so a reader meets
either a partition's old files or its new ones, with at worst a stale file beside them.
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc
from tqdm import tqdm

from handlers.catalog.layout import (
    CARDS,
    OBSCORE,
    ROW_GROUP_ROWS,
    TARGET_FILE_BYTES,
    Table,
    card_bucket,
    is_catalog_file,
)
from handlers.catalog.rows import DocumentRows, Row, UnusableDocumentError, document_rows
from handlers.catalog.schema import CARDS_SCHEMA, HEALPIX_29, METADATA_KEY, OBSCORE_SCHEMA
from handlers.catalog.store import CatalogStore, metadata_keys, parquet_bytes, read_table
from handlers.layout import metadata_key

logger = logging.getLogger(__name__)

#: Documents read at once: each is one small GET, so latency, not bandwidth, sets the rate.
READERS = 16

#: How rows are ordered within a file: by position on the sky (HEALPix order 29), then by key.
SORT_KEYS: dict[str, list[tuple[str, str]]] = {
    OBSCORE.name: [(HEALPIX_29, "ascending"), (METADATA_KEY, "ascending")],
    CARDS.name: [(METADATA_KEY, "ascending"), ("hdu_index", "ascending"), ("card_index", "ascending")],
}
SCHEMAS = {OBSCORE.name: OBSCORE_SCHEMA, CARDS.name: CARDS_SCHEMA}

Partition = tuple[Table, int | None]


@dataclass
class BuildReport:
    documents: int = 0
    #: Rows written, by table name.
    rows: dict[str, int] = field(default_factory=dict)
    #: The keys of the files written, and of those deleted as stale.
    written: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    seconds: float = 0.0
    #: Documents left out (unreadable, not a document) and values written as null, one line each.
    warnings: list[str] = field(default_factory=list)


def rebuild(store: CatalogStore, progress: bool = False) -> BuildReport:
    started = time.perf_counter()
    report = BuildReport()
    keys = metadata_keys(store)
    rows = _read_rows(store, keys, report, progress)
    existing = [key for table in (OBSCORE, CARDS) for key in store.keys(table.prefix) if is_catalog_file(table, key)]
    written = _write(store, _by_partition(rows), report)
    stale = sorted(set(existing) - set(written))
    store.delete(stale)
    report.deleted = stale
    report.seconds = time.perf_counter() - started
    return report


def update(store: CatalogStore, keys: Iterable[str]) -> BuildReport:
    """The catalog after ``process`` wrote (or removed) the metadata of the objects keyed ``keys``;
    a root without a catalog yet (its documents written before there was one) is rebuilt whole."""
    existing = {table.name: sorted(k for k in store.keys(table.prefix) if is_catalog_file(table, k))
                for table in (OBSCORE, CARDS)}
    if not any(existing.values()):
        return rebuild(store)
    started = time.perf_counter()
    report = BuildReport()
    changed = sorted({metadata_key(key) for key in keys})
    rows = _read_rows(store, changed, report, progress=False)
    grouped = _by_partition(rows)
    affected = set(grouped) | _partitions_holding(store, existing[OBSCORE.name], OBSCORE, set(changed))
    affected |= {(CARDS, card_bucket(key)) for key in changed}  # a key's cards bucket never changes
    kept = {
        partition: _kept_rows(store, partition, existing[partition[0].name], set(changed)) for partition in affected
    }
    merged = {partition: kept[partition] + grouped.get(partition, []) for partition in affected}
    written = _write(store, merged, report)
    stale = sorted(key for table in (OBSCORE, CARDS) for key in existing[table.name]
                   if (table, table.partition_of_key(key)) in affected and key not in written)
    store.delete(stale)
    report.deleted = stale
    report.seconds = time.perf_counter() - started
    return report


def _read_rows(store: CatalogStore, keys: Sequence[str], report: BuildReport, progress: bool) -> list[DocumentRows]:
    def read(key: str) -> DocumentRows | str | None:
        body = store.read(key)
        if body is None:
            return None  # removed since it was listed, or never written (a rejected input)
        try:
            return document_rows(key, json.loads(body))
        except ValueError as exc:  # not JSON, or UnusableDocumentError
            return str(exc) if isinstance(exc, UnusableDocumentError) else f"{key}: not JSON ({exc})"

    found: list[DocumentRows] = []
    with ThreadPoolExecutor(READERS, thread_name_prefix="catalog") as pool:
        bar = tqdm(pool.map(read, keys), total=len(keys), unit="doc", desc="metadata documents",
                   disable=None if progress else True)
        for result in bar:
            if isinstance(result, DocumentRows):
                found.append(result)
                report.warnings.extend(result.warnings)
            elif result is not None:
                report.warnings.append(result)
    report.documents = len(found)
    return found


def _by_partition(rows: Iterable[DocumentRows]) -> dict[Partition, list[Row]]:
    grouped: dict[Partition, list[Row]] = defaultdict(list)
    for part in rows:
        grouped[(OBSCORE, part.obscore_partition)].append(part.obscore)
        grouped[(CARDS, part.cards_partition)].extend(part.cards)
    return grouped


def _partitions_holding(store: CatalogStore, files: Sequence[str], table: Table, keys: set[str]) -> set[Partition]:
    """The partitions whose files hold a row of ``keys`` (read by one column)."""
    wanted = pa.array(sorted(keys), pa.string())
    return {(table, table.partition_of_key(file)) for file in files
            if pc.any(pc.is_in(read_table(store, file, [METADATA_KEY])[METADATA_KEY], wanted)).as_py()}


def _kept_rows(store: CatalogStore, partition: Partition, files: Sequence[str], changed: set[str]) -> list[Row]:
    table, value = partition
    rows: list[Row] = []
    for file in files:
        if table.partition_of_key(file) == value:
            rows.extend(row for row in read_table(store, file).to_pylist() if row[METADATA_KEY] not in changed)
    return rows


def _write(store: CatalogStore, partitions: dict[Partition, list[Row]], report: BuildReport) -> set[str]:
    tables = {partition: pa.Table.from_pylist(rows, SCHEMAS[partition[0].name])
              for partition, rows in partitions.items() if rows}
    return write_partitions(store, tables, report)


def write_partitions(store: CatalogStore, partitions: Mapping[Partition, pa.Table], report: BuildReport) -> set[str]:
    """Every partition's files, sorted and cut to size, written in parallel; their keys (in ``report``, too)."""
    jobs: list[tuple[str, pa.Table]] = []
    for (table, value), data in partitions.items():
        if not data.num_rows:
            continue
        whole = data.sort_by(SORT_KEYS[table.name])  # nulls last
        report.rows[table.name] = report.rows.get(table.name, 0) + whole.num_rows
        for number, piece in enumerate(_files_of(whole)):
            jobs.append((table.file_key(value, number), piece))
    with ThreadPoolExecutor(READERS, thread_name_prefix="catalog") as pool:
        list(pool.map(lambda job: store.write(job[0], parquet_bytes(job[1], ROW_GROUP_ROWS)), jobs))
    report.written = sorted(key for key, _ in jobs)
    return set(report.written)


def _files_of(table: pa.Table) -> list[pa.Table]:
    """A partition cut into files of about ``TARGET_FILE_BYTES`` of Arrow data each."""
    rows_per_file = max(1, TARGET_FILE_BYTES * table.num_rows // max(1, table.nbytes))
    return [table.slice(start, rows_per_file) for start in range(0, table.num_rows, rows_per_file)]
