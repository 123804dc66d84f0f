"""Pure: a metadata document as its ``obscore`` row and its ``cards`` rows.

Every column of ``obscore.columns`` is written, null where the document's ``summary`` lacks it, so
the catalog takes in the full ObsCore record as the summary grows.  A value of the wrong kind is
written as null and named in a warning, never a reason to lose the row.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from handlers.catalog.layout import PARTITION_ORDER, card_bucket
from handlers.catalog.schema import HEALPIX_29, METADATA_KEY
from handlers.catalog.sky import MAX_ORDER, healpix_index, partition_pixel, valid_position
from handlers.obscore.columns import COLUMNS, FILTER

Row = dict[str, Any]


class UnusableDocumentError(ValueError):
    """A metadata document without the parts every row needs (``source``, ``processor``, ``summary``)."""


@dataclass
class DocumentRows:
    """One document's rows, with the partitions they go to and what was wrong with its values."""

    obscore: Row
    obscore_partition: int | None
    cards: list[Row]
    cards_partition: int
    warnings: list[str] = field(default_factory=list)


def document_rows(metadata_key: str, document: Mapping[str, Any]) -> DocumentRows:
    """Raises ``UnusableDocumentError`` for a document that cannot be a row at all."""
    try:
        summary, source, processor = document["summary"], document["source"], document["processor"]
        hdus = document.get("hdus") or []
        if not all(isinstance(part, Mapping) for part in (summary, source, processor)):
            raise TypeError("summary, source and processor must be objects")
    except (KeyError, TypeError) as exc:
        raise UnusableDocumentError(f"{metadata_key}: not a metadata document ({exc})") from exc
    warnings: list[str] = []
    row: Row = {column.name: _typed(summary.get(column.name), column.datatype, f"{metadata_key}: summary."
                                    f"{column.name}", warnings) for column in (*COLUMNS, FILTER)}
    ra, dec = row["s_ra"], row["s_dec"]
    position = valid_position(ra, dec)
    if (ra is not None or dec is not None) and not position:
        warnings.append(f"{metadata_key}: no valid position in s_ra={ra!r}, s_dec={dec!r}; written as null, "
                        "under the null partition")
        row["s_ra"] = row["s_dec"] = None
    healpix = healpix_index(ra, dec, MAX_ORDER) if position else None
    row.update(
        source_bucket=_text(source.get("bucket")),
        source_key=_text(source.get("key")),
        source_version_id=_text(source.get("version_id")),
        source_etag=_text(source.get("etag")),
        source_size=_typed(source.get("size"), "BIGINT", f"{metadata_key}: source.size", warnings),
        thumbnail_keys=[hdu["thumbnail"] for hdu in hdus if isinstance(hdu, Mapping) and
                        isinstance(hdu.get("thumbnail"), str)],
        ingested_at=_timestamp(processor.get("processed_at"), f"{metadata_key}: processor.processed_at", warnings),
        processor_version=_text(processor.get("version")),
    )
    row[METADATA_KEY] = metadata_key
    row[HEALPIX_29] = healpix
    return DocumentRows(
        obscore=row,
        obscore_partition=None if healpix is None else partition_pixel(healpix, PARTITION_ORDER),
        cards=list(card_rows(metadata_key, hdus)),
        cards_partition=card_bucket(metadata_key),
        warnings=warnings,
    )


def card_rows(metadata_key: str, hdus: list[Any]) -> list[Row]:
    rows = []
    for hdu in hdus:
        if not isinstance(hdu, Mapping):
            continue
        for number, card in enumerate(hdu.get("cards") or []):
            if not isinstance(card, Mapping):
                continue
            value = card.get("value")
            rows.append({
                METADATA_KEY: metadata_key,
                "hdu_index": hdu.get("index") if isinstance(hdu.get("index"), int) else None,
                "hdu_name": _text(hdu.get("name")),
                "card_index": number,
                "keyword": _text(card.get("keyword")),
                "value": card_text(value),
                "value_number": None if card.get("unparsed") else card_number(value),
                "comment": _text(card.get("comment")),
            })
    return rows


def card_text(value: Any) -> str | None:
    """A card's value as text: a string as it is, a logical as FITS writes it (T or F), a number as JSON
    writes it, an encoded value (NaN, a complex number) as its JSON."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "T" if value else "F"
    return json.dumps(value, allow_nan=False)


def card_number(value: Any) -> float | None:
    """A numeric card's value as a double; null for text, logicals, complex numbers and non-finite values."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


#: The integers each ADQL integer type holds (Arrow's int32 and int64).
_INTEGER_RANGES = {"INTEGER": 2**31, "BIGINT": 2**63}


def _typed(value: Any, datatype: str, where: str, warnings: list[str]) -> Any:
    """``value`` as the column's type; null, with a warning, where it is not one (a double must be
    finite, as the record's numbers are, and an integer must fit the column)."""
    if value is None:
        return None
    if datatype == "DOUBLE":
        if isinstance(value, int | float) and not isinstance(value, bool) and _finite(value):
            return float(value)
    elif datatype in _INTEGER_RANGES:
        limit = _INTEGER_RANGES[datatype]
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and -limit <= value < limit:
            return value
    elif isinstance(value, str):
        return value
    warnings.append(f"{where} {value!r} is not of type {datatype}; written as null")
    return None


def _finite(value: int | float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer beyond any double
        return False


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _timestamp(value: Any, where: str, warnings: list[str]) -> datetime | None:
    if value is None:
        return None
    try:
        stamp = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        warnings.append(f"{where} {value!r} is not an ISO 8601 time; written as null")
        return None
    if stamp.tzinfo is None:
        warnings.append(f"{where} {value!r} has no time zone; written as null")
        return None
    return stamp
