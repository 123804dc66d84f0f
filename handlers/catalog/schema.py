"""The catalog's Parquet schemas, as constants that tests and part 2's Glue tables are checked against.

``obscore`` holds the standard's 30 columns (``obscore.columns``) with ``filter``, in that order and
with their ADQL types as Arrow types, each field carrying its unit, UCD and utype as field metadata;
then where the row came from.  The partition columns (``layout``) are not in the files: Hive-style,
they are named by the folders.
"""

from __future__ import annotations

import pyarrow as pa

from handlers.obscore.columns import COLUMNS, FILTER, Column

#: The Arrow type of each ADQL type: a REGION is its STC-S text, a CLOB a string.
ARROW_TYPES: dict[str, pa.DataType] = {
    "VARCHAR": pa.string(),
    "CLOB": pa.string(),
    "REGION": pa.string(),
    "INTEGER": pa.int32(),
    "BIGINT": pa.int64(),
    "DOUBLE": pa.float64(),
}

#: The nested HEALPix index of (s_ra, s_dec) at order 29, as HATS names it; null without a position.
HEALPIX_29 = "_healpix_29"
#: The row's identity: the metadata document's key in the output root.
METADATA_KEY = "metadata_key"


def _obscore_field(column: Column) -> pa.Field:
    metadata = {"ucd": column.ucd, "utype": column.utype, "adql_type": column.datatype}
    if column.unit is not None:
        metadata["unit"] = column.unit
    return pa.field(column.name, ARROW_TYPES[column.datatype], metadata=metadata)


#: Where the row came from: the source object, the outputs derived from it, and the run that made them.
PROVENANCE_FIELDS: tuple[pa.Field, ...] = (
    pa.field("source_bucket", pa.string()),
    pa.field("source_key", pa.string()),
    pa.field("source_version_id", pa.string()),
    pa.field("source_etag", pa.string()),
    pa.field("source_size", pa.int64(), metadata={"unit": "byte"}),
    pa.field(METADATA_KEY, pa.string(), nullable=False),
    pa.field("thumbnail_keys", pa.list_(pa.string())),
    pa.field("ingested_at", pa.timestamp("ms", tz="UTC")),
    pa.field("processor_version", pa.string()),
    pa.field(HEALPIX_29, pa.int64()),
)

#: The fields of an ``obscore`` file, in order.
OBSCORE_SCHEMA = pa.schema([*(_obscore_field(column) for column in (*COLUMNS, FILTER)), *PROVENANCE_FIELDS])

#: The fields of a ``cards`` file: one row per header card, its value as text and, where numeric, as a number.
CARDS_SCHEMA = pa.schema([
    pa.field(METADATA_KEY, pa.string(), nullable=False),
    pa.field("hdu_index", pa.int32(), nullable=False),
    pa.field("hdu_name", pa.string()),
    pa.field("card_index", pa.int32(), nullable=False),
    pa.field("keyword", pa.string()),
    pa.field("value", pa.string()),
    pa.field("value_number", pa.float64()),
    pa.field("comment", pa.string()),
])
