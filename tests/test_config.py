"""Settings: defaults, validation naming the bad variable, and the recursive-trigger guard."""

from __future__ import annotations

import pytest

from handlers.config import Settings
from handlers.errors import ConfigurationError, RecursiveTriggerError


def test_defaults() -> None:
    settings = Settings.from_env({"OUTPUT_BUCKET": "out"})
    assert settings.require_output_bucket() == "out"
    assert (settings.thumbnails.max_size, settings.thumbnails.interval, settings.thumbnails.stretch) == (
        512, "zscale", "linear")
    assert (settings.reads.read_ahead, settings.reads.part_bytes, settings.reads.concurrency) == (
        65536, 8 * 1024 * 1024, 8)


@pytest.mark.parametrize(
    ("name", "value"),
    [("THUMBNAIL_MAX_SIZE", "big"), ("THUMBNAIL_MAX_SIZE", "0"), ("THUMBNAIL_STRETCH", "cubic"),
     ("THUMBNAIL_INTERVAL", "minmax"), ("THUMBNAIL_PERCENTILE", "101"), ("READ_CONCURRENCY", "-1"),
     ("READ_AHEAD_BYTES", "100"), ("MAX_DECOMPRESSED_BYTES", "1e9")],
)
def test_bad_values_are_refused_by_name(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        Settings.from_env({"OUTPUT_BUCKET": "out", name: value})


def test_output_bucket_is_required_only_where_it_is_used() -> None:
    settings = Settings.from_env({})
    with pytest.raises(ConfigurationError, match="OUTPUT_BUCKET"):
        settings.require_output_bucket()


def test_inbox_equal_to_output_refuses_to_start() -> None:
    with pytest.raises(RecursiveTriggerError):
        Settings.from_env({"OUTPUT_BUCKET": "same", "INBOX_BUCKET": "same"})
