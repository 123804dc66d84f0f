"""Bytes-level checks before astropy: compression, header scans, the limits they enforce."""

from __future__ import annotations

import errno
import gzip
import io

import pytest

from handlers.config import ReadSettings
from handlers.errors import DecompressedSizeLimitError, HeaderCardsLimitError, TruncatedFitsError
from handlers.fits.opening import scan_header, uncompressed
from handlers.storage.reader import RangeReader

from .support import DRIZZLE


def reader_of(data: bytes) -> RangeReader:
    return RangeReader(lambda a, b: data[a:b], len(data), ReadSettings(), name="test")


class FullDisk(io.BytesIO):
    def write(self, data: bytes) -> int:  # type: ignore[override]
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_tmp_is_a_named_limit_not_corruption(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tempfile.SpooledTemporaryFile", lambda **_: FullDisk())
    with pytest.raises(DecompressedSizeLimitError, match="ephemeral storage"):
        with uncompressed(reader_of(gzip.compress(DRIZZLE.read_bytes())), 10**9):
            pass


def test_a_cut_gzip_stream_is_truncated() -> None:
    data = gzip.compress(DRIZZLE.read_bytes())
    with pytest.raises(TruncatedFitsError):
        with uncompressed(reader_of(data[: len(data) // 2]), 10**9):
            pass


def test_gzip_is_decompressed_once_into_a_seekable_stream() -> None:
    with uncompressed(reader_of(gzip.compress(DRIZZLE.read_bytes(), mtime=0)), 10**9) as (stream, compression):
        assert compression == "gzip"
        assert stream.read() == DRIZZLE.read_bytes()


def test_header_scan_stops_at_the_card_limit() -> None:
    header = b"SIMPLE  =                    T".ljust(80) + b"COMMENT".ljust(80) * 200
    stream = io.BytesIO(header + b"END".ljust(80))
    assert scan_header(stream, 0, 300) == stream.getvalue()  # END is card 202: found, the header returned
    with pytest.raises(HeaderCardsLimitError, match="MAX_HEADER_CARDS"):
        scan_header(stream, 0, 100)
