"""FITS ingestion: S3 objects in, header metadata and thumbnails out.

The Lambda entry point is ``handlers.ingest.handler``; ``python -m handlers`` is the CLI.
"""

__version__ = "0.1.0"
