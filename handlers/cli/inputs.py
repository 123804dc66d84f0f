"""What ``process`` was asked to read: its arguments as inputs with their keys, or what is wrong with them.

A folder stands for the FITS files under it, found by suffix; each is keyed by its path in
the folder named, so that two files of one name in different subfolders keep apart, while a
file named directly keeps its file name as its key.  A path that gives nothing to read is
reported as it is, in its place among the others, rather than stopping the run; two inputs
that would still share a key are found before anything is processed, since one's outputs
would overwrite the other's.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from handlers.object_ref import ObjectRef

#: The names the stack's S3 notifications are filtered to (terraform/variables.tf ``fits_suffixes``),
#: matched here whatever their case, as a folder of a telescope's files may spell them.
FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz", ".fz")


def is_fits_name(name: str) -> bool:
    """Whether ``name`` ends with one of ``FITS_SUFFIXES``, in any case."""
    return name.lower().endswith(FITS_SUFFIXES)


@dataclass(frozen=True)
class Input:
    """One object to process: a local file (``path``) or an S3 object (``ref``), and its key."""

    named: str  # the path or URI, as the user would recognise it
    key: str
    path: str | None = None
    ref: ObjectRef | None = None


@dataclass(frozen=True)
class Unreadable:
    """An argument (or a folder found in one) that gives nothing to read, and why."""

    named: str
    reason: str


def resolve(arguments: Sequence[str]) -> list[Input | Unreadable]:
    """Each argument as its inputs, in order; a folder's files sorted by key.

    Raises ``UnrecognizedEventError`` for an ``s3://`` argument that names no object: a
    mistyped URI is a usage error, not an input to report.
    """
    items: list[Input | Unreadable] = []
    for argument in arguments:
        if argument.startswith("s3://"):
            ref = ObjectRef.from_uri(argument)
            items.append(Input(argument, ref.key, ref=ref))
        elif os.path.isfile(argument):
            items.append(Input(argument, os.path.basename(argument), path=argument))
        elif os.path.isdir(argument):
            items += _folder(argument)
        elif os.path.exists(argument):
            items.append(Unreadable(argument, "not a file or a folder"))
        else:
            items.append(Unreadable(argument, "no such file or folder"))
    return items


def _folder(folder: str) -> list[Input | Unreadable]:
    found: list[Input | Unreadable] = []
    unreadable: list[Input | Unreadable] = []

    def refused(exc: OSError) -> None:
        unreadable.append(Unreadable(exc.filename or folder, exc.strerror or str(exc)))

    for parent, folders, files in os.walk(folder, onerror=refused):
        folders.sort()
        for name in files:
            path = os.path.join(parent, name)
            if is_fits_name(name) and os.path.isfile(path):
                found.append(Input(path, os.path.relpath(path, folder).replace(os.sep, "/"), path=path))
    found.sort(key=lambda item: item.named)
    if not found and not unreadable:
        return [Unreadable(folder, f"a folder with no FITS file (by suffix: {', '.join(FITS_SUFFIXES)})")]
    return found + unreadable


def first_collision(inputs: Iterable[Input]) -> tuple[Input, Input] | None:
    """Two inputs that would be written under the same key, if any."""
    seen: dict[str, Input] = {}
    for item in inputs:
        earlier = seen.setdefault(item.key, item)
        if earlier is not item:
            return earlier, item
    return None
