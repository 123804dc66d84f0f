"""The Parquet schema of ``obscore`` against IVOA ObsCore 1.1's list, and ``_healpix_29`` against HEALPix."""

from __future__ import annotations

from pathlib import Path

import astropy.units as u
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from astropy.coordinates import Latitude, Longitude, SkyCoord
from cdshealpix import nested

from handlers.catalog.build import rebuild
from handlers.catalog.layout import OBSCORE, PARTITION_ORDER
from handlers.catalog.rows import document_rows
from handlers.catalog.schema import CARDS_SCHEMA, OBSCORE_SCHEMA
from handlers.catalog.store import FolderStore
from handlers.layout import metadata_key
from handlers.storage.outputs import FolderOutput
from tools.catalog_synthetic import body, document

#: REC-ObsCore-v1.1 (2017-05-09), Table 6 and appendix C: the mandatory columns in the standard's order,
#: each with its ADQL type and unit as the Recommendation gives them, typed here from the standard.
STANDARD = [
    ("dataproduct_type", "VARCHAR", None), ("calib_level", "INTEGER", None), ("obs_collection", "VARCHAR", None),
    ("obs_id", "VARCHAR", None), ("obs_publisher_did", "VARCHAR", None), ("access_url", "CLOB", None),
    ("access_format", "VARCHAR", None), ("access_estsize", "BIGINT", "kbyte"), ("target_name", "VARCHAR", None),
    ("s_ra", "DOUBLE", "deg"), ("s_dec", "DOUBLE", "deg"), ("s_fov", "DOUBLE", "deg"), ("s_region", "REGION", None),
    ("s_resolution", "DOUBLE", "arcsec"), ("s_xel1", "BIGINT", None), ("s_xel2", "BIGINT", None),
    ("t_min", "DOUBLE", "d"), ("t_max", "DOUBLE", "d"), ("t_exptime", "DOUBLE", "s"), ("t_resolution", "DOUBLE", "s"),
    ("t_xel", "BIGINT", None), ("em_min", "DOUBLE", "m"), ("em_max", "DOUBLE", "m"), ("em_res_power", "DOUBLE", None),
    ("em_xel", "BIGINT", None), ("o_ucd", "VARCHAR", None), ("pol_states", "VARCHAR", None),
    ("pol_xel", "BIGINT", None),
    ("facility_name", "VARCHAR", None), ("instrument_name", "VARCHAR", None),
]
#: How each ADQL type is stored: TAP's types as Parquet's (and Athena's: string, int, bigint, double).
PARQUET = {"VARCHAR": pa.string(), "CLOB": pa.string(), "REGION": pa.string(), "INTEGER": pa.int32(),
           "BIGINT": pa.int64(), "DOUBLE": pa.float64()}


def test_obscore_has_the_standards_columns_with_their_types_and_units() -> None:
    fields = list(OBSCORE_SCHEMA)[: len(STANDARD)]
    assert [(f.name, f.metadata[b"adql_type"].decode(), (f.metadata or {}).get(b"unit")) for f in fields] == [
        (name, kind, None if unit is None else unit.encode()) for name, kind, unit in STANDARD]
    assert [f.type for f in fields] == [PARQUET[kind] for _, kind, _ in STANDARD]
    assert OBSCORE_SCHEMA.field("filter").type == pa.string()
    assert {f.name for f in OBSCORE_SCHEMA} >= {"source_bucket", "source_key", "source_version_id", "source_etag",
                                                 "source_size", "metadata_key", "thumbnail_keys", "ingested_at",
                                                 "processor_version", "_healpix_29"}


def test_the_files_are_written_in_the_schema_constants(tmp_path: Path) -> None:
    out = FolderOutput(tmp_path)
    for number in range(3):
        out.put(metadata_key(f"survey/obs-{number:04d}.fits"),
                body(document(number, 10.0 + number, 41.0, np.random.default_rng(number))), "application/json")
    store = FolderStore(tmp_path)
    rebuild(store)
    for key in store.keys("catalog/"):
        written = pq.read_schema(tmp_path / key)
        expected = OBSCORE_SCHEMA if key.startswith(OBSCORE.prefix) else CARDS_SCHEMA
        assert written.equals(expected, check_metadata=False)
        assert [f.metadata for f in written] == [f.metadata for f in expected]  # units and UCDs kept


def test_every_obscore_column_of_the_summary_is_written() -> None:
    """A summary with all 30 columns: each lands in its column, typed."""
    doc = document(5, 10.0, 41.0, np.random.default_rng(0))
    doc["summary"].update(obs_publisher_did="ivo://example/obs5", access_url="https://example.org/obs5.fits",
                          access_format="image/fits", s_region="CIRCLE ICRS 10 41 0.1", s_resolution=0.05,
                          t_resolution=2.5, t_xel=1, em_res_power=4.0, em_xel=1, o_ucd="phot.count",
                          pol_states="/I/", pol_xel=1, calib_level=3.0)
    row = document_rows("metadata/x.json", doc)
    assert not row.warnings
    names = [name for name, _, _ in STANDARD]
    assert {name: row.obscore[name] for name in names} == {name: doc["summary"][name] for name in names}
    assert type(row.obscore["calib_level"]) is int
    pa.Table.from_pylist([row.obscore], OBSCORE_SCHEMA)  # every value fits its column's type


def test_healpix_29_is_the_nested_pixel_of_the_position() -> None:
    """The pixel's centre (computed back) is within its size of the position, and its order-4 parent names
    the partition: the nested scheme's pixels nest by two bits per order."""
    for ra, dec in [(10.6847, 41.2690), (359.9999, -0.0001), (0.0, 90.0), (123.4, -89.9)]:
        row = document_rows("metadata/x.json", document(1, ra, dec, np.random.default_rng(0)))
        pixel = row.obscore["_healpix_29"]
        lon, lat = nested.healpix_to_lonlat(np.array([pixel], np.uint64), 29)
        centre = SkyCoord(Longitude(lon), Latitude(lat))
        assert centre.separation(SkyCoord(ra * u.deg, dec * u.deg))[0] < 1 * u.mas  # order 29: 0.4 mas pixels
        parent = nested.lonlat_to_healpix(Longitude([ra], u.deg), Latitude([dec], u.deg), PARTITION_ORDER)[0]
        assert row.obscore_partition == int(parent)
