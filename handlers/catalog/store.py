"""The output root as the catalog reads and writes it: a local folder, or a bucket.

Documents and Parquet files are listed, read and written through the root's own client (boto3
for a bucket, so that moto's ``mock_aws`` serves it); tables are read for queries through
pyarrow's filesystem of the same root, which DuckDB then scans as Arrow datasets: DuckDB's own
S3 extension would have to be downloaded at query time, which no machine here can do.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from handlers.layout import METADATA_PREFIX
from handlers.storage.folder_names import folder_names_of, is_temporary, key_of
from handlers.storage.outputs import FolderOutput

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

#: Keys a DeleteObjects request takes at most.
DELETE_BATCH = 1000


class CatalogStore(Protocol):
    uri: str

    def keys(self, prefix: str) -> dict[str, int]:
        """Every key under ``prefix`` (paginated for a bucket), with its size in bytes."""

    def read(self, key: str) -> bytes | None:
        """The object's bytes; None if there is none."""

    def write(self, key: str, body: bytes) -> None:
        """Write whole or not at all: a reader never sees part of a file."""

    def delete(self, keys: Sequence[str]) -> None: ...

    def arrow_files(self, keys: Sequence[str]) -> tuple[pafs.FileSystem, list[str], str]:
        """pyarrow's filesystem, the paths of ``keys`` in it, and the path of the root (for partitioning)."""


def metadata_keys(store: CatalogStore) -> list[str]:
    """The keys of every metadata document, sorted."""
    return sorted(key for key in store.keys(METADATA_PREFIX) if key.endswith(".json"))


def read_table(store: CatalogStore, key: str, columns: Sequence[str] | None = None) -> pa.Table:
    filesystem, (path,), _ = store.arrow_files([key])
    return pq.read_table(path, filesystem=filesystem, columns=list(columns) if columns else None)


def parquet_bytes(table: pa.Table, row_group_rows: int) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=row_group_rows, compression="snappy")
    return sink.getvalue()


class FolderStore:
    """A folder written by ``process``: keys stored under the names ``storage.folder_names`` gives them."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.output = FolderOutput(root)
        self.uri = self.output.uri

    def keys(self, prefix: str) -> dict[str, int]:
        """``prefix`` ends with '/': a folder."""
        top = self.output.root.joinpath(*folder_names_of(prefix.rstrip("/").split("/")))
        found = {}
        for folder, _, names in os.walk(top):
            for name in names:
                if is_temporary(name):
                    continue
                path = Path(folder, name)
                key = key_of(path.relative_to(self.output.root).as_posix())
                if key.startswith(prefix):
                    found[key] = path.stat().st_size
        return found

    def read(self, key: str) -> bytes | None:
        try:
            return self.output.path(key).read_bytes()
        except FileNotFoundError:
            return None

    def write(self, key: str, body: bytes) -> None:
        self.output.put(key, body, "application/vnd.apache.parquet")

    def delete(self, keys: Sequence[str]) -> None:
        for key in keys:
            self.output.delete(key)

    def arrow_files(self, keys: Sequence[str]) -> tuple[pafs.FileSystem, list[str], str]:
        root = self.output.root.resolve()
        return pafs.LocalFileSystem(), [str(root.joinpath(*key.split("/"))) for key in keys], str(root)


class BucketStore:
    """A bucket, read for queries through pyarrow's S3 filesystem at the client's own endpoint."""

    def __init__(self, client: S3Client, bucket: str) -> None:
        self.client = client
        self.bucket = bucket
        self.uri = f"s3://{bucket}/"

    def keys(self, prefix: str) -> dict[str, int]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return {item["Key"]: item["Size"] for page in pages for item in page.get("Contents", [])}

    def read(self, key: str) -> bytes | None:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except self.client.exceptions.NoSuchKey:
            return None

    def write(self, key: str, body: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/vnd.apache.parquet")

    def delete(self, keys: Sequence[str]) -> None:
        for start in range(0, len(keys), DELETE_BATCH):
            batch = keys[start : start + DELETE_BATCH]
            self.client.delete_objects(Bucket=self.bucket,
                                       Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True})

    def arrow_files(self, keys: Sequence[str]) -> tuple[pafs.FileSystem, list[str], str]:
        return self.arrow_filesystem(), [f"{self.bucket}/{key}" for key in keys], self.bucket

    def arrow_filesystem(self) -> pafs.S3FileSystem:
        """pyarrow's S3 client at the boto3 client's endpoint and region (moto, SeaweedFS, AWS); its
        credentials from the AWS SDK's own chain, as boto3's (environment, profile, instance role)."""
        endpoint = self.client.meta.endpoint_url
        return pafs.S3FileSystem(region=self.client.meta.region_name,
                                 endpoint_override=None if _is_aws(endpoint) else endpoint)


def _is_aws(endpoint: str) -> bool:
    return endpoint.split("://", 1)[-1].split("/", 1)[0].endswith(".amazonaws.com")
