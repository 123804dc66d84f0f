"""What a warm Lambda environment keeps between invocations: the settings and the S3 client."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers.config import Settings
from handlers.storage.s3_source import make_s3_client

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_settings: Settings | None = None
_client: S3Client | None = None


def settings() -> Settings:
    """Read once per cold start; a bad variable fails every invocation loudly."""
    global _settings
    if _settings is None:
        _settings = Settings.from_env()
    return _settings


def s3_client() -> S3Client:
    """Built on first use (never at import: tests start moto first), then reused."""
    global _client
    if _client is None:
        _client = make_s3_client(settings().reads)
    return _client


def reset() -> None:
    """Forget the cached settings and client (tests change the environment between runs)."""
    global _settings, _client
    _settings, _client = None, None
