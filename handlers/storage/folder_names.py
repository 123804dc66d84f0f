"""Pure: an output key as names a file system holds, and back (README, Outputs: "In a folder").

A key is data: it may hold ``..``, ``.``, empty segments, NUL or names longer than a file
system allows, and a folder root must still keep every key's outputs inside itself, apart
from every other key's.  Each ``/``-separated segment of the key becomes one or more names:

- ``%`` is written ``%25`` and NUL ``%00``; a segment that is ``.`` or ``..`` is written
  ``%2E`` or ``%2E%2E``, and an empty one as a lone ``%``;
- a folder's name that ends like a file's (``layout.FILE_SUFFIXES``) has the dot before that
  suffix written ``%2E``, so that a file and a folder of one name coexist;
- a name longer than ``NAME_MAX`` bytes is cut into names that fit (never inside a
  character or a ``%XX``), each but the last followed by a lone ``%``: nested folders.

Decoding joins each name ending in a lone ``%`` with the next, then percent-decodes:
the mapping is reversible, so two keys never share a path.  Ordinary keys keep their
bucket's paths.  No name made here starts with ``.%p``: temporary files use that prefix.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import unquote

from handlers.layout import FILE_SUFFIXES

#: The longest file name, in bytes, of the file systems a folder root is expected on (ext4, XFS, APFS, ...).
NAME_MAX = 255
#: How temporary files begin: a name the encoding never makes, of a fixed length.
TEMPORARY_PREFIX = ".%partial-"

_EMPTY = "%"
_CONTINUED = "%"
_TOKEN = re.compile(r"%[0-9A-F]{2}|.", re.S)


def names_of(key: str) -> list[str]:
    """The names of the path of the file that holds ``key``, from the root down."""
    *folders, leaf = key.split("/")
    return [*folder_names_of(folders), *_pieces(_escape(leaf, folder=False))]


def folder_names_of(segments: Sequence[str]) -> list[str]:
    """The names of the path of the folder that a prefix's segments (without its final '/') name."""
    return [name for segment in segments for name in _pieces(_escape(segment, folder=True))]


def key_of(path: str) -> str:
    """The output key of a path relative to the root (names separated by '/'): the inverse of ``names_of``."""
    return "/".join(segments_of(path.split("/")))


def segments_of(names: Sequence[str]) -> list[str]:
    """The key's segments of a sequence of names; an unfinished long name at the end is kept as it is."""
    segments: list[str] = []
    pending = ""
    for name in names:
        if continues(name):
            pending += name[: -len(_CONTINUED)]
            continue
        segments.append("" if not pending and name == _EMPTY else unquote(pending + name))
        pending = ""
    if pending:
        segments.append(unquote(pending))
    return segments


def continues(name: str) -> bool:
    """Whether ``name`` is a piece of a long name that goes on in the folder it names."""
    return len(name) > len(_CONTINUED) and name.endswith(_CONTINUED)


def is_temporary(name: str) -> bool:
    return name.startswith(TEMPORARY_PREFIX)


def _escape(segment: str, folder: bool) -> str:
    if segment == "":
        return _EMPTY
    if segment in (".", ".."):
        return "%2E" * len(segment)
    text = segment.replace("%", "%25").replace("\0", "%00")
    if folder:
        for suffix in FILE_SUFFIXES:
            if text.endswith(suffix):
                dot = len(text) - len(suffix)
                text = f"{text[:dot]}%2E{text[dot + 1 :]}"
                break
    return text


def _pieces(text: str) -> list[str]:
    """``text`` cut into names of at most ``NAME_MAX`` bytes; the last is the longest, so it keeps the suffix."""
    if _size(text) <= NAME_MAX:
        return [text]
    pieces: list[str] = []
    current: list[str] = []
    size, limit = 0, NAME_MAX
    for token in reversed(_TOKEN.findall(text)):
        if size + _size(token) > limit:
            pieces.append("".join(reversed(current)) + (_CONTINUED if pieces else ""))
            current, size, limit = [], 0, NAME_MAX - len(_CONTINUED)
        current.append(token)
        size += _size(token)
    pieces.append("".join(reversed(current)) + _CONTINUED)
    return pieces[::-1]


def _size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))
