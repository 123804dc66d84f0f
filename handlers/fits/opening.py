"""Opening a reader as FITS: decompression, sanity checks, and astropy's errors named.

astropy raises many kinds of exception on a bad file (OSError, ValueError, KeyError,
EOFError, zlib errors, ...), and turns some into warnings.  Here they become the
``InputError`` classes that the ``errors/`` records carry, while a fault of the store
(remembered by the reader) is re-raised as itself so that it is retried.
"""

from __future__ import annotations

import bz2
import gzip
import logging
import lzma
import re
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any, cast

from handlers.deadline import Deadline
from handlers.errors import (
    CorruptFitsError,
    DecompressedSizeLimitError,
    HeaderCardsLimitError,
    InputError,
    MemoryLimitError,
    NotFitsError,
    TruncatedFitsError,
    UnsupportedFitsError,
)
from handlers.fits.format import BLOCK, CARD, END_KEYWORD, KEYWORD_LENGTH, is_tile_compressed
from handlers.storage.interfaces import ByteStream, SourceStream

logger = logging.getLogger(__name__)

GZIP_MAGIC = b"\x1f\x8b"
BZIP2_MAGIC = b"BZh"
XZ_MAGIC = b"\xfd7zXZ"
LZW_MAGIC = b"\x1f\x9d"
FITS_MAGIC = b"SIMPLE"
_END = END_KEYWORD.encode("ascii")
#: Decompressed data stays in memory up to this size, then spills to /tmp.
SPOOL_IN_MEMORY = 64 * 1024 * 1024
_COPY_CHUNK = 1024 * 1024


@contextmanager
def uncompressed(
    reader: SourceStream, max_decompressed: int, deadline: Deadline | None = None
) -> Iterator[tuple[ByteStream, str | None]]:
    """The FITS byte stream of ``reader`` and its whole-file compression (None, "gzip", ...).

    A whole-file compressed object cannot be read at random, so it is decompressed once,
    as it streams, into a spool file; plain FITS is read in place, lazily.  ``deadline`` is
    checked between chunks: a gigabyte of decompression is a long stage of its own.
    """
    magic = reader.read(len(XZ_MAGIC))
    reader.seek(0)
    if not magic:
        raise NotFitsError("the object is empty (0 bytes)")
    decompressor: Any
    raw = cast(IO[bytes], reader)  # the decompressors ask only read, seek and tell of it
    if magic.startswith(GZIP_MAGIC):
        compression, decompressor = "gzip", gzip.GzipFile(fileobj=raw, mode="rb")
    elif magic.startswith(BZIP2_MAGIC):
        compression, decompressor = "bzip2", bz2.BZ2File(raw, mode="rb")
    elif magic.startswith(XZ_MAGIC):
        compression, decompressor = "xz", lzma.LZMAFile(raw, mode="rb")
    elif magic.startswith(LZW_MAGIC):
        raise UnsupportedFitsError(
            "the object is Unix-compressed (.Z, LZW), which is not supported: recompress it with gzip"
        )
    else:
        _require_fits_magic(reader)
        yield reader, None
        return
    reader.prefer_sequential()
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
        _decompress(decompressor, spool, compression, max_decompressed, deadline or Deadline())
        spool.seek(0)
        _require_fits_magic(spool)
        yield spool, compression


def _decompress(stream: Any, spool: IO[bytes], compression: str, limit: int, deadline: Deadline) -> None:
    total = 0
    try:
        while chunk := stream.read(_COPY_CHUNK):
            deadline.check(f"decompressing the {compression} stream")
            total += len(chunk)
            if total > limit:
                raise DecompressedSizeLimitError(
                    f"the {compression} stream expands beyond MAX_DECOMPRESSED_BYTES ({limit:,} bytes)"
                )
            _spool(spool, chunk, total)
    except EOFError as exc:
        raise TruncatedFitsError(f"the {compression} stream ends early: {exc}") from exc
    except (OSError, zlib.error, lzma.LZMAError, ValueError) as exc:
        raise CorruptFitsError(f"the {compression} stream cannot be decompressed: {exc}") from exc


def _spool(spool: IO[bytes], chunk: bytes, total: int) -> None:
    """A full /tmp is a limit of the function, not corruption of the file: name it so."""
    try:
        spool.write(chunk)
    except OSError as exc:
        raise DecompressedSizeLimitError(
            f"/tmp filled up after {total:,} decompressed bytes ({exc.strerror}): give the function more "
            "ephemeral storage than MAX_DECOMPRESSED_BYTES, or lower that limit"
        ) from exc


def _require_fits_magic(stream: ByteStream) -> None:
    head = stream.read(len(FITS_MAGIC) + 3)
    stream.seek(0)
    if not head:
        raise NotFitsError("the decompressed stream is empty")
    if not head.startswith(FITS_MAGIC):
        raise NotFitsError(f"the object does not begin with a FITS SIMPLE card (it begins {head!r})")


def scan_header(stream: ByteStream, offset: int, max_cards: int) -> bytes:
    """Find the END card of the header at ``offset`` within ``max_cards`` cards; return
    the header's cards as written, through END (or to the end of the stream).

    astropy reads a header block after block until it finds END, so a header with no
    END would make it read the whole object; this bounded look, through the same
    read-ahead, refuses such a header after ``max_cards`` cards, counted exactly (a header
    of more cards before its END is refused too, before astropy parses any of it).
    Reaching the end of the stream is left to the caller (``header_complete``).
    """
    stream.seek(offset)
    blocks: list[bytes] = []
    per_block = BLOCK // CARD
    while len(blocks) * per_block <= max_cards:  # through the block that holds card number max_cards
        chunk = stream.read(BLOCK)  # block by block: no byte past the END's block is asked for
        end = next((start for start in range(0, len(chunk) - CARD + 1, CARD)
                    if chunk[start : start + KEYWORD_LENGTH] == _END), None)
        if end is not None:
            if len(blocks) * per_block + end // CARD > max_cards:
                break
            return b"".join([*blocks, chunk[: end + CARD]])
        blocks.append(chunk)
        if len(chunk) < BLOCK:
            return b"".join(blocks)
    raise HeaderCardsLimitError(
        f"the header at byte {offset:,} has no END card within MAX_HEADER_CARDS ({max_cards:,}) cards"
    )


def header_complete(text: bytes) -> bool:
    """Whether ``text`` (from ``scan_header``) ends with its END card rather than with the stream."""
    return len(text) >= CARD and text[-CARD:-CARD + KEYWORD_LENGTH] == _END


#: The standard's largest NAXIS (FITS 4.0, section 4.4.1.1).
MAX_NAXIS = 999
_NAXIS_CARD = re.compile(rb"NAXIS   =\s*([-+]?\d+)")


def check_axis_claim(text: bytes, index: int, offset: int) -> None:
    """Refuse a header whose NAXIS is beyond the standard's, or beyond what its cards can describe.

    astropy builds a list of NAXIS axis lengths as it opens the header, one lookup per
    claimed axis, before anything else can look at it: a claim of millions of axes in a
    header of a few cards would run for minutes.
    """
    match = next((m for m in _NAXIS_CARD.finditer(text) if m.start() % CARD == 0), None)
    if match is None:
        return  # astropy reports a header without NAXIS
    naxis = int(match.group(1))
    if naxis > min(MAX_NAXIS, len(text) // CARD):
        raise CorruptFitsError(
            f"HDU {index} (header at byte {offset:,}) claims NAXIS = {naxis:,}, more axes than the standard's "
            f"{MAX_NAXIS} or than its {len(text) // CARD:,} cards can describe"
        )


def check_data_present(hdu: Any, index: int, available: int) -> None:
    """Refuse an HDU whose data unit would end past the object's last byte.

    astropy only warns about this ("File may have been truncated") and then fails, or
    reads garbage, when the data is touched.  Tile-compressed HDUs report their
    uncompressed size, so their padded span is used with a block's tolerance.  A
    non-standard HDU (SIMPLE = F) has no defined data unit to check.
    """
    info = hdu.fileinfo() if hasattr(hdu, "fileinfo") else None
    if not info:
        return
    start = int(info["datLoc"])
    span = int(info["datSpan"])
    needed = start + (max(0, span - (BLOCK - 1)) if is_tile_compressed(type(hdu).__name__) else int(hdu.size))
    if needed > available:
        raise TruncatedFitsError(
            f"HDU {index} ({hdu.name or 'unnamed'}) needs {needed:,} bytes but the object has "
            f"{available:,}: the file is truncated or its header claims more data than it holds"
        )


def as_input_error(exc: BaseException) -> InputError:
    """Name what astropy (or numpy, zlib) found wrong with the bytes."""
    if isinstance(exc, InputError):
        return exc
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, EOFError) or "truncated" in str(exc).lower():
        return TruncatedFitsError(text)
    if isinstance(exc, MemoryError):
        return MemoryLimitError(f"reading the file needs more memory than the function has ({text})")
    return CorruptFitsError(text)

