"""Synthetic metadata documents for the catalog's tests and benchmark: every kind the catalog meets.

Positions: most within a few degrees of M31 (so that a 1-degree cone holds some and misses others),
some uniform on the sphere, some across RA 0/360 and near the north pole (where partitions meet
oddly), and some without a position (solar data, a table).  Every tenth document has PROPOSID = 9431.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from handlers.layout import metadata_key
from handlers.obscore.columns import COLUMNS

M31 = (10.6847, 41.2690)
INSTRUMENTS = ("ACS/WFC", "WFC3/UVIS", "MegaPrime", "DECam")
PROPOSID = 9431


@dataclass
class Synthetic:
    """The documents by object key, and what the test expects of them."""

    documents: dict[str, dict[str, Any]]

    @property
    def metadata_keys(self) -> set[str]:
        return {metadata_key(key) for key in self.documents}

    def positions(self) -> dict[str, tuple[float, float]]:
        """(s_ra, s_dec) by metadata key, of the documents that have one."""
        return {metadata_key(key): (doc["summary"]["s_ra"], doc["summary"]["s_dec"])
                for key, doc in self.documents.items() if doc["summary"]["s_ra"] is not None}

    def with_proposid(self) -> set[str]:
        return {metadata_key(key) for key, doc in self.documents.items()
                if any(card["keyword"] == "PROPOSID" and card["value"] == PROPOSID
                       for hdu in doc["hdus"] for card in hdu["cards"])}

    def card_count(self) -> int:
        return sum(len(hdu["cards"]) for doc in self.documents.values() for hdu in doc["hdus"])


def synthetic(count: int = 300, seed: int = 17) -> Synthetic:
    rng = np.random.default_rng(seed)
    return Synthetic({f"survey/obs-{number:04d}.fits": document(number, *_position(number, rng), rng)
                      for number in range(count)})


def _position(number: int, rng: np.random.Generator) -> tuple[float | None, float | None]:
    kind = number % 10
    if kind < 5:  # clustered around M31, within about 3 degrees
        dec = M31[1] + rng.uniform(-3, 3)
        return (M31[0] + rng.uniform(-3, 3) / np.cos(np.radians(dec))) % 360, dec
    if kind < 8:  # uniform on the sphere
        return rng.uniform(0, 360), float(np.degrees(np.arcsin(rng.uniform(-1, 1))))
    if kind == 8:  # across RA 0/360, or near the pole
        if number % 20 == 8:
            return rng.uniform(-0.5, 0.5) % 360, rng.uniform(-1, 1)
        return rng.uniform(0, 360), rng.uniform(88.5, 90)
    return None, None


def document(number: int, ra: float | None, dec: float | None, rng: np.random.Generator,
             exptime: float | None = None) -> dict[str, Any]:
    """A metadata document as the pipeline writes one, with every ObsCore column of the summary."""
    key = f"survey/obs-{number:04d}.fits"
    exposure = float(rng.choice([30.0, 300.0, 600.0, 1200.0])) if exptime is None else exptime
    night = 60000 + number % 7
    summary: dict[str, Any] = {column.name: None for column in COLUMNS}
    summary.update(
        dataproduct_type="image", calib_level=int(number % 4), obs_collection="SURVEY", obs_id=f"obs{number:04d}",
        target_name="M31" if number % 10 < 5 else f"FIELD-{number}", s_ra=ra, s_dec=dec,
        s_fov=0.05 if ra is not None else None, t_min=night + 0.3, t_max=night + 0.3 + exposure / 86400,
        t_exptime=exposure, s_xel1=2048, s_xel2=4096, em_min=8.5e-7, em_max=9.5e-7, access_estsize=32768,
        facility_name="HST", instrument_name=INSTRUMENTS[number % len(INSTRUMENTS)], filter="F850LP",
    )
    if ra is None:
        summary["dataproduct_type"] = "measurements"
    primary = [
        {"keyword": "SIMPLE", "value": True, "comment": "conforms to FITS standard"},
        {"keyword": "BITPIX", "value": 8, "comment": ""},
        {"keyword": "NAXIS", "value": 0, "comment": ""},
        {"keyword": "TELESCOP", "value": "HST", "comment": "telescope used"},
        {"keyword": "PROPOSID", "value": PROPOSID if number % 10 == 3 else 10000 + number, "comment": "PEP proposal"},
        {"keyword": "EXPTIME", "value": exposure, "comment": "exposure duration (seconds)"},
        {"keyword": "PHOTFLAM", "value": {"float": "NaN"}, "comment": "not finite"},
    ]
    science = [
        {"keyword": "XTENSION", "value": "IMAGE", "comment": "Image extension"},
        {"keyword": "EXTNAME", "value": "SCI", "comment": ""},
        {"keyword": "CRVAL1", "value": ra, "comment": ""},
        {"keyword": "CRVAL2", "value": dec, "comment": ""},
    ]
    thumbnail = f"thumbnails/{key}/1-SCI.png"
    return {
        "source": {"bucket": "fits-inbox", "key": key, "version_id": f"v{number}", "etag": f"{number:032x}",
                   "size": 2880 * (10 + number)},
        "processor": {"name": "fits-ingest", "version": "0.1.0", "bytes_read": 2880, "requests": 1,
                      "processed_at": f"2026-12-02T10:{number % 60:02d}:00+00:00"},
        "hdus": [
            {"index": 0, "name": "PRIMARY", "type": "PrimaryHDU", "cards": primary, "thumbnail": None},
            {"index": 1, "name": "SCI", "type": "ImageHDU", "cards": science, "thumbnail": thumbnail},
        ],
        "summary": summary,
        "warnings": [],
    }


def body(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, allow_nan=False).encode()
