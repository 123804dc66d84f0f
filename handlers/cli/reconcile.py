"""After an incident: which inbox objects have neither metadata nor an error record.

Lists the inbox and the output root's ``metadata/``, ``errors/`` and ``errors/_long/``
prefixes (paginated listings, no per-object requests) and compares the keys.  A key too
long for its record's own key has its record under ``errors/_long/``, named by the key's
hash (``layout.error_key``): the inbox's keys are hashed to find theirs.  With ``redrive``,
each missing object is processed again through the same pipeline.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from handlers.cli.inputs import FITS_SUFFIXES
from handlers.errors import IngestError
from handlers.layout import ERROR_PREFIX, LONG_ERROR_PREFIX, METADATA_PREFIX, error_key

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

logger = logging.getLogger(__name__)

_JSON = ".json"


@dataclass
class Reconciliation:
    inbox: set[str] = field(default_factory=set)
    with_metadata: set[str] = field(default_factory=set)
    with_error: set[str] = field(default_factory=set)

    @property
    def missing(self) -> list[str]:
        return sorted(self.inbox - self.with_metadata - self.with_error)

    @property
    def orphaned(self) -> list[str]:
        """Outputs whose source object no longer exists (a removal not yet handled)."""
        return sorted((self.with_metadata | self.with_error) - self.inbox)


def reconcile(
    client: S3Client, inbox: str, inbox_prefix: str, output: str, suffixes: Iterable[str] = FITS_SUFFIXES
) -> Reconciliation:
    wanted = tuple(s.lower() for s in suffixes)
    keys = {k for k in _keys(client, inbox, inbox_prefix) if k.lower().endswith(wanted)}
    long_records = set(_keys(client, output, LONG_ERROR_PREFIX))
    recorded_long = {k for k in keys if error_key(k) in long_records}
    # A record under errors/_long/ that an inbox key hashes to is that key's, not the key "_long/<hash>".
    answered = {error_key(k) for k in recorded_long}
    with_error = {k for k in _sources(client, output, ERROR_PREFIX + inbox_prefix, len(ERROR_PREFIX))
                  if f"{ERROR_PREFIX}{k}{_JSON}" not in answered}
    return Reconciliation(
        inbox=keys,
        with_metadata=_sources(client, output, METADATA_PREFIX + inbox_prefix, len(METADATA_PREFIX)),
        with_error=with_error | recorded_long,
    )


def redrive(keys: Iterable[str], process_key: Callable[[str], str]) -> dict[str, str]:
    """Process each key again; the status of each (or the failure) by key."""
    results = {}
    for key in keys:
        try:
            results[key] = process_key(key)
        except IngestError as exc:  # one failing object must not stop the others; it is reported
            logger.warning("redrive of %s failed: %s", key, exc)
            results[key] = f"failed: {type(exc).__name__}: {exc}"
    return results


def _keys(client: S3Client, bucket: str, prefix: str) -> Iterable[str]:
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            yield item["Key"]


def _sources(client: S3Client, bucket: str, prefix: str, strip: int) -> set[str]:
    return {k[strip : -len(_JSON)] for k in _keys(client, bucket, prefix) if k.endswith(_JSON)}
