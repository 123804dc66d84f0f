"""The read phase: a FITS stream to HDU documents and drawn thumbnails, nothing written yet.

HDUs are read one at a time (astropy's lazy loading), each header first looked at
through a bounded scan, each data unit checked to lie within the object, so that a
hostile file is refused by a named limit instead of exhausting time or memory.
"""

from __future__ import annotations

import json
import warnings
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from handlers.config import LimitSettings, Settings
from handlers.deadline import Deadline
from handlers.documents import HduDocument
from handlers.errors import (
    CorruptFitsError,
    DocumentSizeLimitError,
    FileCardsLimitError,
    HduCountLimitError,
    IngestError,
    TruncatedFitsError,
)
from handlers.fits.format import CARD
from handlers.fits.opening import (
    as_input_error,
    check_axis_claim,
    check_data_present,
    header_complete,
    scan_header,
    uncompressed,
)
from handlers.fits.previews import PreviewSkipped
from handlers.fits.previews.choose import FileContext, draw_preview, has_data
from handlers.layout import thumbnail_key
from handlers.stages import stage
from handlers.storage.interfaces import ByteStream, SourceStream
from handlers.threads.compute import exclusive_compute
from handlers.threads.thread_warnings import recorded

#: At most this many distinct astropy warnings are kept in a metadata document.
MAX_WARNINGS = 20
_XTENSION = b"XTENSION"


@dataclass
class Extraction:
    """What one object holds: its HDUs' documents and the thumbnails to write."""

    hdus: list[HduDocument] = field(default_factory=list)
    thumbnails: list[tuple[str, bytes]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    compression: str | None = None


def extract(reader: SourceStream, key: str, settings: Settings, deadline: Deadline) -> Extraction:
    """Read ``reader`` as FITS; raise an InputError naming what is wrong with it.

    Parameters:
        reader: the object's bytes; closed on return.
        key: the object's key, which names its thumbnails.
        settings: limits and thumbnail settings.
        deadline: checked between HDUs and between row blocks.

    A fault of the store is re-raised as itself even where astropy turned it into a
    warning or another exception (the reader remembers it), so that it is retried.
    """
    with reader, recorded() as caught:
        try:
            with uncompressed(reader, settings.limits.max_decompressed_bytes, deadline) as (stream, compression):
                # Once read, an object fetched in one GET is in memory: reading on waits on nothing.
                with exclusive_compute() if reader.held_whole else nullcontext():
                    # A decompressed copy is in memory: only the object itself is read ahead.
                    extraction = _walk(stream, key, settings, deadline, reader if stream is reader else None)
                extraction.compression = compression
        except IngestError as exc:
            if reader.fault is not None:  # an HDU cut short by the store is the store's fault, retried
                raise reader.fault from exc
            raise
        except Exception as exc:  # astropy signals bad bytes with many exception types
            if reader.fault is not None:
                raise reader.fault from exc
            raise as_input_error(exc) from exc
        if reader.fault is not None:
            raise reader.fault
    extraction.warnings = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))[:MAX_WARNINGS]
    return extraction


@dataclass
class Budget:
    """What the file has cost so far against the limits that add up over its HDUs: cards and document bytes."""

    limits: LimitSettings
    cards: int = 0
    document_bytes: int = 0

    def add_header(self, text: bytes, index: int) -> None:
        """Count a header's cards before astropy parses them (each card kept costs memory until the end)."""
        self.cards += len(text) // CARD
        if self.cards > self.limits.max_file_cards:
            raise FileCardsLimitError(
                f"the headers through HDU {index} hold {self.cards:,} cards, more than MAX_FILE_CARDS "
                f"({self.limits.max_file_cards:,})"
            )

    def add_document(self, doc: HduDocument) -> None:
        """Count an HDU's document as the metadata document will encode it (strict, compact JSON)."""
        encoded = json.dumps(doc, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
        self.document_bytes += len(encoded.encode())
        if self.document_bytes > self.limits.max_document_bytes:
            raise DocumentSizeLimitError(
                f"the metadata document through HDU {doc['index']} takes {self.document_bytes:,} bytes, more than "
                f"MAX_DOCUMENT_BYTES ({self.limits.max_document_bytes:,})"
            )


def _walk(
    stream: ByteStream, key: str, settings: Settings, deadline: Deadline, ranged: SourceStream | None
) -> Extraction:
    from astropy.io import fits

    from handlers.fits.hdu import describe_hdu

    limits = settings.limits
    budget = Budget(limits)
    size = stream.seek(0, 2)
    offset = 0
    header_text = scan_header(stream, offset, limits.max_header_cards)
    check_axis_claim(header_text, 0, offset)
    budget.add_header(header_text, 0)
    stream.seek(0)
    hdul = fits.open(stream, memmap=False, lazy_load_hdus=True, cache=False)
    extraction = Extraction()
    context = FileContext()
    index = 0
    while True:
        deadline.check(f"reading HDU {index}")
        try:
            hdu = hdul[index]
        except IndexError:  # astropy's word for an HDU it could not read (its warning says why)
            raise CorruptFitsError(f"HDU {index} (from byte {offset:,}) cannot be read as an HDU") from None
        except IngestError:
            raise
        except Exception as exc:  # named as extract() would name it, with the HDU
            error = as_input_error(exc)
            raise type(error)(f"HDU {index} (from byte {offset:,}): {error}") from exc
        if index >= limits.max_hdus:
            raise HduCountLimitError(f"the file has more than MAX_HDUS ({limits.max_hdus:,}) HDUs")
        check_data_present(hdu, index, size)
        deadline.check(f"describing HDU {index}")
        doc = describe_hdu(index, hdu, header_text)
        if has_data(doc):
            if len(extraction.thumbnails) < limits.max_thumbnails:
                try:
                    with stage("thumbnail"):
                        thumbnail = draw_preview(hdu, doc, context, settings.thumbnails, deadline, stream, ranged)
                except PreviewSkipped as skipped:
                    doc["preview"] = {"skipped": str(skipped)}
                else:
                    doc["thumbnail"] = name = thumbnail_key(key, index, hdu.name)
                    doc["preview"] = thumbnail.preview
                    extraction.thumbnails.append((name, thumbnail.png))
            else:
                doc["preview"] = {"skipped": f"MAX_THUMBNAILS ({limits.max_thumbnails}) already drawn"}
            _replace_redrawn(extraction, context, key)
        budget.add_document(doc)
        extraction.hdus.append(doc)
        following = _end_of(hdu)
        if following is None or following >= size:
            return extraction
        if not _starts_an_extension(stream, following):
            # The standard allows records after the last HDU; nothing of them is read, but it is said.
            warnings.warn(f"{size - following:,} bytes after the last HDU (from byte {following:,}) are not an "
                          "HDU (no XTENSION card): they were not read", stacklevel=2)
            return extraction
        index, offset = index + 1, following
        header_text = scan_header(stream, offset, limits.max_header_cards)
        if not header_complete(header_text):
            raise TruncatedFitsError(
                f"HDU {index}'s header (from byte {offset:,}) is cut off by the end of the object before its "
                "END card: the file is truncated"
            )
        check_axis_claim(header_text, index, offset)
        budget.add_header(header_text, index)


def _replace_redrawn(extraction: Extraction, context: FileContext, key: str) -> None:
    """Put the charts of earlier HDUs, drawn again against a wavelength array read since, in place of
    their pictures (under the same names), or drop those pictures where the chart was skipped."""
    for doc, chart in context.redrawn:
        name = thumbnail_key(key, doc["index"], doc["name"])
        extraction.thumbnails = [(n, png) for n, png in extraction.thumbnails if n != name]
        doc["thumbnail"] = None
        if chart is not None:
            doc["thumbnail"], doc["preview"] = name, chart.preview
            extraction.thumbnails.append((name, chart.png))
    context.redrawn.clear()


def _starts_an_extension(stream: ByteStream, offset: int) -> bool:
    """Whether the bytes at ``offset`` begin an extension's header (its first card is XTENSION)."""
    stream.seek(offset)
    return stream.read(len(_XTENSION)) == _XTENSION


def _end_of(hdu: Any) -> int | None:
    """Where the next header starts; None for a non-standard HDU, which ends the file."""
    info = hdu.fileinfo() if hasattr(hdu, "fileinfo") else None
    return int(info["datLoc"]) + int(info["datSpan"]) if info else None
