"""Writers for the output root: an S3 bucket (the Lambda) or a local folder (the CLI).

Both answer the calls of ``interfaces.OutputRoot``, so the pipeline does not know which it writes to.
The metadata document carries its source's eTag and version as S3 user metadata, so
a re-delivered event is recognised with one HEAD instead of a GET of the document;
``put_if_absent`` (S3's conditional write) answers whether any document was there
without asking first.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from handlers.documents import SourceIdentity
from handlers.errors import IngestError, OutputKeyTooLongError, TransientError
from handlers.layout import S3_KEY_BYTES, fits_s3, key_bytes
from handlers.storage.folder_names import TEMPORARY_PREFIX, continues, folder_names_of, is_temporary, key_of, names_of
from handlers.storage.interfaces import SOURCE_ETAG, SOURCE_VERSION
from handlers.storage.s3_errors import classify_client_error

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from handlers.storage.batched_deletes import BatchedDeletes

class BucketOutput:
    """An S3 bucket as the output root.

    ``deletes``: the deletes of the batch's objects, sent together (None: each by itself).
    """

    def __init__(self, client: S3Client, bucket: str, deletes: BatchedDeletes | None = None) -> None:
        self.client = client
        self.bucket = bucket
        self.uri = f"s3://{bucket}/"
        self._deletes = deletes

    def check_keys(self, keys: Iterable[str]) -> None:
        """S3 answers a longer key with a 400 (``KeyTooLongError``): known here, it is never sent."""
        for key in keys:
            if not fits_s3(key):
                raise OutputKeyTooLongError(
                    f"the output key {key[:48]}…{key[-24:]} has {key_bytes(key):,} bytes of UTF-8, "
                    f"over S3's limit of {S3_KEY_BYTES:,}"
                )

    def put(self, key: str, body: bytes, content_type: str, tags: Mapping[str, str] | None = None) -> None:
        self.check_keys([key])
        self._call("put_object", key, Body=body, ContentType=content_type, Metadata=dict(tags or {}))

    def put_if_absent(self, key: str, body: bytes, content_type: str, tags: Mapping[str, str]) -> bool:
        """``If-None-Match: *``: S3 answers 412 when the key has a current version.

        A 409 (a conditional write of the same key in flight) is a fault to retry.
        """
        self.check_keys([key])
        with self._faults("put_object", key):
            try:
                self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type,
                                       Metadata=dict(tags), IfNoneMatch="*")
            except ClientError as exc:
                if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 412:
                    return False
                raise
        return True

    def recorded_source(self, key: str) -> SourceIdentity | None:
        """The HEAD of the document; none is asked for a key S3 cannot hold (S3 would answer a 400, not a 404)."""
        if not fits_s3(key):
            return None
        with self._faults("HEAD", key):
            try:
                head = self.client.head_object(Bucket=self.bucket, Key=key)
            except ClientError as exc:
                if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                    return None
                raise
        meta = head.get("Metadata", {})
        return {"etag": meta.get(SOURCE_ETAG, ""), "version_id": meta.get(SOURCE_VERSION, "")}

    def delete(self, key: str) -> None:
        """A key S3 cannot hold names no object: nothing to delete, and nothing asked."""
        if not fits_s3(key):
            return
        if self._deletes is None:
            self._call("delete_object", key)
        else:
            self._deletes.delete(key, self._delete_keys)

    def _delete_keys(self, keys: list[str]) -> dict[str, IngestError]:
        """One DELETE for one key, one DeleteObjects for more; the faults of keys not deleted."""
        if len(keys) == 1:
            self._call("delete_object", keys[0])
            return {}
        with self._faults("delete_objects", f" ({len(keys)} keys)"):
            response = self.client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True}
            )
        return {
            error["Key"]: classify_client_error(ClientError({"Error": dict(error)}, "DeleteObjects"),
                                                f"{self.uri}{error['Key']}")
            for error in response.get("Errors", [])
        }

    def children(self, prefix: str) -> list[str]:
        if not fits_s3(prefix):
            return []
        with self._faults("LIST", prefix):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix, Delimiter="/"
            )
            return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def _call(self, operation: str, key: str, **kwargs: object) -> None:
        with self._faults(operation, key):
            getattr(self.client, operation)(Bucket=self.bucket, Key=key, **kwargs)

    @contextmanager
    def _faults(self, operation: str, where: str) -> Iterator[None]:
        """S3's errors as what to do next (``classify_client_error``); the client's own, transient."""
        try:
            yield
        except ClientError as exc:
            raise classify_client_error(exc, f"{self.uri}{where}") from exc
        except BotoCoreError as exc:
            raise TransientError(f"{operation} {self.uri}{where}: {exc}") from exc


class FolderOutput:
    """A local folder as the output root (the CLI).

    Keys are data, never paths: each is stored under the names ``folder_names`` makes of it,
    always inside the root and never shared with another key, whatever the key holds.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.uri = f"{self.root}/"

    def path(self, key: str) -> Path:
        """The file that holds ``key`` (``folder_names`` says how, and how to read a path back as its key)."""
        return self.root.joinpath(*names_of(key))

    def check_keys(self, keys: Iterable[str]) -> None:
        """A folder holds every key: long names are split into names its file system holds."""

    def put(self, key: str, body: bytes, content_type: str, tags: Mapping[str, str] | None = None) -> None:
        """Write through a temporary name and rename, so a reader never sees half a file."""
        path = self.path(key)
        partial = self._partial(path, body)
        try:
            os.replace(partial, path)
        except OSError:
            partial.unlink(missing_ok=True)
            raise

    def put_if_absent(self, key: str, body: bytes, content_type: str, tags: Mapping[str, str]) -> bool:
        """A hard link to the written file fails where the name exists: create-if-absent, atomically."""
        path = self.path(key)
        partial = self._partial(path, body)
        try:
            os.link(partial, path)
        except FileExistsError:
            return False
        finally:
            partial.unlink()
        return True

    @staticmethod
    def _partial(path: Path, body: bytes) -> Path:
        """``body`` written under a temporary name beside ``path``: short and of fixed length, so it always fits."""
        path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            partial = path.with_name(f"{TEMPORARY_PREFIX}{secrets.token_hex(4)}")
            try:
                descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            except FileExistsError:  # another writer's, in the same folder at the same moment
                continue
            with os.fdopen(descriptor, "wb") as file:
                file.write(body)
            return partial

    def recorded_source(self, key: str) -> SourceIdentity | None:
        try:
            source = json.loads(self.path(key).read_text())["source"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return {"etag": source.get("etag") or "", "version_id": source.get("version_id") or ""}

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def children(self, prefix: str) -> list[str]:
        """The files of the prefix's folder, and those of a long name, split into nested folders."""
        folder = self.root.joinpath(*folder_names_of(prefix.split("/")[:-1]))
        return [f"{prefix}{name}" for name in self._leaves(folder, [])]

    def _leaves(self, folder: Path, pieces: list[str]) -> list[str]:
        try:
            entries = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError):
            return []
        found = []
        for entry in entries:
            if entry.is_file() and not is_temporary(entry.name):
                found.append(key_of("/".join([*pieces, entry.name])))
            elif entry.is_dir() and continues(entry.name):
                found += self._leaves(Path(entry.path), [*pieces, entry.name])
        return found
