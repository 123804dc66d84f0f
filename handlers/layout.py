"""Pure: where each output lives under the output root (see the contract).

The keys are S3's, in a bucket and in a folder alike (a folder stores each under a name
its file system can hold: ``storage/folder_names.py``).  S3 holds keys of at most
``S3_KEY_BYTES``; an error record must always have a place, so one whose key would be
longer goes under ``errors/_long/``, named by a hash of the key (the record holds the key).
"""

from __future__ import annotations

import hashlib
import re

METADATA_PREFIX = "metadata/"
THUMBNAIL_PREFIX = "thumbnails/"
ERROR_PREFIX = "errors/"
LONG_ERROR_PREFIX = f"{ERROR_PREFIX}_long/"

#: The longest key S3 holds, in bytes of UTF-8.
S3_KEY_BYTES = 1024
#: How the name of every file this layout names ends; a folder root keeps its folder names apart from them.
FILE_SUFFIXES = (".json", ".png")

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def key_bytes(key: str) -> int:
    """The length S3 counts: bytes of UTF-8."""
    return len(key.encode("utf-8", "surrogatepass"))


def fits_s3(key: str) -> bool:
    """Whether S3 can hold ``key``."""
    return key_bytes(key) <= S3_KEY_BYTES


def metadata_key(key: str) -> str:
    return f"{METADATA_PREFIX}{key}.json"


def error_key(key: str) -> str:
    """``errors/<key>.json``; where S3 could not hold that, ``errors/_long/<sha256 of the key>.json``."""
    record = f"{ERROR_PREFIX}{key}.json"
    if fits_s3(record):
        return record
    return f"{LONG_ERROR_PREFIX}{hashlib.sha256(key.encode('utf-8', 'surrogatepass')).hexdigest()}.json"


def thumbnail_prefix(key: str) -> str:
    """The folder of ``key``'s thumbnails; they are its direct children (names hold no '/')."""
    return f"{THUMBNAIL_PREFIX}{key}/"


def thumbnail_key(key: str, index: int, extname: str) -> str:
    """``thumbnails/<key>/<index>-<EXTNAME>.png``; EXTNAME cleaned so the key stays portable."""
    name = _UNSAFE.sub("_", extname.strip()).strip("_")
    return f"{thumbnail_prefix(key)}{index}-{name}.png" if name else f"{thumbnail_prefix(key)}{index}.png"
