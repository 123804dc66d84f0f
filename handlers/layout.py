"""Pure: where each output lives under the output root (see the contract)."""

from __future__ import annotations

import re

METADATA_PREFIX = "metadata/"
THUMBNAIL_PREFIX = "thumbnails/"
ERROR_PREFIX = "errors/"

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def metadata_key(key: str) -> str:
    return f"{METADATA_PREFIX}{key}.json"


def error_key(key: str) -> str:
    return f"{ERROR_PREFIX}{key}.json"


def thumbnail_prefix(key: str) -> str:
    """The folder of ``key``'s thumbnails; they are its direct children (names hold no '/')."""
    return f"{THUMBNAIL_PREFIX}{key}/"


def thumbnail_key(key: str, index: int, extname: str) -> str:
    """``thumbnails/<key>/<index>-<EXTNAME>.png``; EXTNAME cleaned so the key stays portable."""
    name = _UNSAFE.sub("_", extname.strip()).strip("_")
    return f"{thumbnail_prefix(key)}{index}-{name}.png" if name else f"{thumbnail_prefix(key)}{index}.png"
