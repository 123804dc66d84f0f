"""One object version to process: what every event shape, URI and listing becomes."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.errors import UnrecognizedEventError


@dataclass(frozen=True)
class ObjectRef:
    """One object version announced by an event; the key is decoded.

    ``removed`` marks a deletion: the object's derived outputs are to be removed.
    """

    bucket: str
    key: str
    version_id: str | None = None
    etag: str | None = None
    size: int | None = None
    sequencer: str | None = None
    removed: bool = False

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @classmethod
    def from_uri(cls, uri: str) -> ObjectRef:
        """``s3://bucket/key``, the key taken literally (a user typed it, nothing encoded it)."""
        if not uri.startswith("s3://"):
            raise UnrecognizedEventError(f"not an s3:// URI: {uri!r}")
        bucket, _, key = uri[len("s3://") :].partition("/")
        if not bucket or not key:
            raise UnrecognizedEventError(f"an s3:// URI needs a bucket and a key: {uri!r}")
        return cls(bucket=bucket, key=key)
