"""SQL over the catalog: DuckDB scans the tables as pyarrow datasets of the root's Parquet files.

DuckDB pushes its filters and projections into the dataset's scanner, which skips whole row groups
by their statistics; a cone search (``cone``) also names only the partitions it needs.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.dataset as pads

from handlers.catalog.build import SCHEMAS
from handlers.catalog.layout import CARDS, OBSCORE, TABLES, Table, is_catalog_file
from handlers.catalog.store import CatalogStore

#: The partition columns, as the tables' last columns.
PARTITION_TYPES = {OBSCORE.name: pa.int32(), CARDS.name: pa.int32()}


@dataclass
class Scan:
    """What a query may read: each table's files, with their sizes in bytes."""

    files: dict[str, dict[str, int]]

    def bytes(self, table: Table) -> int:
        return sum(self.files[table.name].values())


def dataset(store: CatalogStore, table: Table, files: list[str]) -> pads.Dataset:
    partition = pa.schema([pa.field(table.partition_key, PARTITION_TYPES[table.name])])
    filesystem, paths, root = store.arrow_files(files)
    return pads.dataset(
        paths,
        schema=pa.unify_schemas([SCHEMAS[table.name], partition]),
        format="parquet",
        filesystem=filesystem,
        partitioning=pads.partitioning(partition, flavor="hive"),
        partition_base_dir=f"{root}/{table.prefix.rstrip('/')}",
    )


def scan(store: CatalogStore, obscore_partitions: Collection[int | None] | None = None) -> Scan:
    """Every file of both tables; of ``obscore`` only those of ``obscore_partitions`` when given."""
    files: dict[str, dict[str, int]] = {}
    for table in TABLES:
        found = {key: n for key, n in store.keys(table.prefix).items() if is_catalog_file(table, key)}
        if table is OBSCORE and obscore_partitions is not None:
            wanted = set(obscore_partitions)
            found = {key: n for key, n in found.items() if table.partition_of_key(key) in wanted}
        files[table.name] = dict(sorted(found.items()))
    return Scan(files)


def connect(store: CatalogStore, plan: Scan | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the views ``obscore`` and ``cards``; nothing is downloaded to run it."""
    plan = plan or scan(store)
    connection = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    for table in TABLES:
        connection.register(table.name, dataset(store, table, list(plan.files[table.name])))
    return connection


def query(store: CatalogStore, sql: str, plan: Scan | None = None) -> pa.Table:
    """Raises ``duckdb.Error`` for SQL that DuckDB refuses."""
    return connect(store, plan).sql(sql).to_arrow_table()
