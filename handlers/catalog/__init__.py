"""The archive's catalog: every metadata document a row of an ObsCore table, every header card a row of
``cards``, in Parquet under ``catalog/`` of the output root, queried with DuckDB (README, "The catalog").

Its dependencies (pyarrow, DuckDB, cdshealpix, tqdm) are the optional extra ``catalog``: the ingest
Lambda never imports this package.
"""
