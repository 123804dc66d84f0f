"""Bytes in and out: the ranged reader and its read-ahead, S3 and local sources, output roots, S3's errors."""
