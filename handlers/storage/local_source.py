"""A local file as a source, read through the same counting reader (the CLI)."""

from __future__ import annotations

import os

from handlers.config import ReadSettings
from handlers.documents import SourceDescription
from handlers.storage.interfaces import ReadStats
from handlers.storage.reader import RangeReader


class LocalSource:
    """A local file read through the same counting reader, for the CLI."""

    def __init__(self, path: str, settings: ReadSettings, key: str | None = None) -> None:
        """``key``: what names its outputs; by default its file name (a file found in a folder
        is named by its path there, so that two of one name stay apart)."""
        self.path = path
        self.settings = settings
        self.stats = ReadStats()
        self.key = key or os.path.basename(path)

    def describe(self) -> SourceDescription:
        return {"bucket": None, "key": self.key, "version_id": None, "etag": None,
                "size": os.path.getsize(self.path), "path": os.path.abspath(self.path)}

    def reads_whole_in_one_request(self, size: int) -> bool:
        """A local file costs no request: looking for an earlier run's document first is cheap, and spares its work."""
        return False

    def resolve(self) -> None:
        """Nothing to look up: a local file has no eTag to compare."""
        return None

    def is_current(self) -> bool:
        return os.path.isfile(self.path)

    def exists(self) -> bool:
        return os.path.isfile(self.path)

    def open(self) -> RangeReader:
        fd = os.open(self.path, os.O_RDONLY)
        size = os.fstat(fd).st_size

        def pread(start: int, end: int) -> bytes:
            data = os.pread(fd, end - start, start)
            self.stats.add(len(data))
            return data

        return RangeReader(pread, size, self.settings, name=self.path, on_close=lambda: os.close(fd))
