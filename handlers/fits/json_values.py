"""Pure: values read from FITS as strict JSON, one encoding for the whole document.

JSON has no NaN, no infinities and no complex numbers, and a header can hold all three
(``EXTVER = 1E400`` is an infinity once read); ``json.dumps`` would write the first two
as bare words no strict parser reads, and refuses the third.  Every value a header
contributes to a document goes through ``encode_value``: card values as they are read
(``fits.cards``), and the rest of an HDU's document (its ``ver``, data fields and WCS)
through ``strict_json`` where ``fits.hdu`` makes it, so that a consumer learns one spelling.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np
from astropy.io.fits.card import Undefined


def encode_value(value: Any) -> Any:
    """A value as strict JSON, keeping its type and precision.

    Strings, booleans and integers stay as they are; a NaN or an infinity becomes
    ``{"float": "NaN"}`` (``"Infinity"``, ``"-Infinity"``), a complex number
    ``{"real": r, "imag": i}``, astropy's undefined value null, anything else its text.
    """
    kind = type(value)
    if kind is str or kind is bool or kind is int:  # most values: exact types first, ABC checks cost more
        return value
    if kind is float:
        return encode_float(value)
    if value is None or isinstance(value, Undefined):
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return encode_float(float(value))
    if isinstance(value, numbers.Complex):
        return {"real": encode_float(float(value.real)), "imag": encode_float(float(value.imag))}
    return str(value)


def encode_float(value: float) -> float | dict[str, str]:
    """A finite float as itself; NaN and the infinities spelled out."""
    if math.isfinite(value):
        return value
    return {"float": "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")}


def strict_json(value: Any) -> Any:
    """``value`` with every leaf encoded by ``encode_value``: mappings and sequences walked, keys kept.

    What it returns is accepted by ``json.dumps(..., allow_nan=False)`` whatever numbers
    the header held, so that the write of a document cannot be the first to find one.
    """
    if isinstance(value, Mapping):
        return {key: strict_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(item) for item in value]
    if isinstance(value, np.ndarray):
        return strict_json(value.tolist())
    return encode_value(value)
