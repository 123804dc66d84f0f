"""Pure: where the catalog's files live under the output root (README, "The catalog": Layout).

- ``catalog/obscore/healpix_4=<pixel>/part-<n>.parquet``: the nested HEALPix pixel of order
  ``PARTITION_ORDER`` of (s_ra, s_dec), 0 to 3071; rows without a position (solar data, a
  table) under Hive's null partition, ``healpix_4=__HIVE_DEFAULT_PARTITION__``.
- ``catalog/cards/key_bucket=<b>/part-<n>.parquet``: the first byte of the SHA-256 of the
  metadata key, modulo ``CARD_BUCKETS``; a few large partitions, since ``cards`` is searched by
  keyword and value, never by position, and holds a few hundred rows per document.
- Within a file, rows are sorted by ``_healpix_29``, then by ``metadata_key``; a partition is cut
  into files of ``TARGET_FILE_BYTES`` of Arrow data each, numbered from 0.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

CATALOG_PREFIX = "catalog/"
#: The HEALPix order of ``obscore``'s partitions: 3,072 pixels of about 3.7 degrees.
PARTITION_ORDER = 4
OBSCORE_PARTITION = f"healpix_{PARTITION_ORDER}"
CARDS_PARTITION = "key_bucket"
CARD_BUCKETS = 16
#: Hive's name for the partition of a null value (Athena and pyarrow read it as null).
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
#: Arrow data per file, before compression: Athena reads files of 128 MiB and more best.
TARGET_FILE_BYTES = 128 * 1024 * 1024
#: Rows per row group: small enough that a file's row-group statistics of ``_healpix_29`` prune within it.
ROW_GROUP_ROWS = 100_000
FILE_SUFFIX = ".parquet"


@dataclass(frozen=True)
class Table:
    name: str
    partition_key: str

    @property
    def prefix(self) -> str:
        return f"{CATALOG_PREFIX}{self.name}/"

    def partition_prefix(self, value: int | None) -> str:
        return f"{self.prefix}{self.partition_key}={NULL_PARTITION if value is None else value}/"

    def file_key(self, value: int | None, number: int) -> str:
        return f"{self.partition_prefix(value)}part-{number:05d}{FILE_SUFFIX}"

    def partition_of_key(self, key: str) -> int | None:
        """The partition value that a file's key names (``int`` or None for the null partition)."""
        folder = key[len(self.prefix):].split("/", 1)[0]
        name, _, value = folder.partition("=")
        if name != self.partition_key:
            raise ValueError(f"{key!r} is not a file of a {self.partition_key} partition of {self.name}")
        return None if value == NULL_PARTITION else int(value)


OBSCORE = Table("obscore", OBSCORE_PARTITION)
CARDS = Table("cards", CARDS_PARTITION)
TABLES = (OBSCORE, CARDS)


def card_bucket(metadata_key: str) -> int:
    return hashlib.sha256(metadata_key.encode("utf-8", "surrogatepass")).digest()[0] % CARD_BUCKETS


def is_catalog_file(table: Table, key: str) -> bool:
    return key.startswith(table.prefix) and key.endswith(FILE_SUFFIX)
