"""The exception hierarchy: what went wrong decides what happens next.

An ``InputError`` is a property of the object itself: retrying cannot help, so it
becomes an ``errors/`` record and the invocation returns normally.  A
``TransientError`` is a property of the moment: it propagates (or is reported as a
batch item failure) so that AWS delivers the event again.
"""

from __future__ import annotations


class IngestError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigurationError(IngestError):
    """The function is set up wrongly; nothing is processed until it is fixed."""


class RecursiveTriggerError(ConfigurationError):
    """The input bucket is the output bucket: writing outputs would trigger us again."""


class UnrecognizedEventError(IngestError):
    """The payload is none of the shapes this function accepts."""


class InputError(IngestError):
    """The object cannot be ingested as it is; an errors/ record says why."""


class NotFitsError(InputError):
    """The object does not start with a FITS primary header."""


class CorruptFitsError(InputError):
    """The object starts like FITS but a header or data unit cannot be parsed."""


class TruncatedFitsError(InputError):
    """The object ends before the data its headers announce."""


class OutputKeyTooLongError(InputError):
    """An output key of the object is longer than S3 holds (its key is data, and too much of it)."""


class UnsupportedFitsError(InputError):
    """The object is valid FITS in a form this processor does not read."""


class UndescribableFitsError(InputError):
    """The object was read, but its metadata document cannot be made or encoded as strict JSON.

    Found before anything is written: retrying would describe the same bytes the same way.
    """


class LimitExceededError(InputError):
    """The object is over a configured limit; the subclass names which one."""


class ObjectSizeLimitError(LimitExceededError):
    """The object is larger than MAX_OBJECT_BYTES."""


class DecompressedSizeLimitError(LimitExceededError):
    """A compressed object expands beyond MAX_DECOMPRESSED_BYTES (a compression bomb, or just too big)."""


class HeaderCardsLimitError(LimitExceededError):
    """A header has more than MAX_HEADER_CARDS cards before its END (or has no END at all)."""


class HduCountLimitError(LimitExceededError):
    """The file has more than MAX_HDUS HDUs."""


class TimeLimitError(LimitExceededError):
    """Processing would outlast the function's remaining time; recorded before Lambda kills it."""


class MemoryLimitError(LimitExceededError):
    """Reading the object needs more memory than the function has."""


class FileCardsLimitError(LimitExceededError):
    """The file's headers hold more than MAX_FILE_CARDS cards in all (memory grows with every card kept)."""


class DocumentSizeLimitError(LimitExceededError):
    """The metadata document would be larger than MAX_DOCUMENT_BYTES."""


class LimitWarning(UserWarning):
    """An input over a limit that is read around rather than refused; the document's warnings say what was left out."""


class TransientError(IngestError):
    """A fault of S3 or the network that outlasted botocore's retries; retry later."""


class SourceChangedError(IngestError):
    """The object announced by the event was overwritten or deleted before we read it."""
