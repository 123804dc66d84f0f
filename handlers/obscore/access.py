"""The columns the archive gives rather than the file: where to get it, in what format, how big,
under which identifier, and how calibrated (a keyword's word first, then the deployment's).
"""

from __future__ import annotations

import math
from urllib.parse import quote

from handlers.config import CALIB_LEVELS, DeploymentSettings
from handlers.documents import AccessFields, SourceDescription
from handlers.obscore.readers import Keywords, Lookup

#: The media type of the object as stored: FITS, or FITS inside a whole-file compression
#: (the ``+gzip`` structured suffix of RFC 8460; ``+bzip2`` and ``+xz`` after it).
FORMATS = {None: "application/fits", "gzip": "application/fits+gzip",
           "bzip2": "application/fits+bzip2", "xz": "application/fits+xz"}
#: Characters of a key kept as they are in a URI: the path's, less those a query or fragment would take.
_KEY_SAFE = "/!$&'()*+,;=:@~"


def access(source: SourceDescription | None, deployment: DeploymentSettings) -> AccessFields:
    """``access_*`` and ``obs_publisher_did`` of the object read (none without a source)."""
    if source is None:
        return {"obs_publisher_did": None, "access_url": None, "access_format": FORMATS[None],
                "access_estsize": None}
    values = {"bucket": source["bucket"] or "", "key": quote(source["key"], safe=_KEY_SAFE)}
    size = source["size"]
    return {
        "obs_publisher_did": deployment.publisher_did.format(**values) if deployment.publisher_did else None,
        "access_url": _access_url(source, deployment, values),
        "access_format": FORMATS.get(source.get("compression"), FORMATS[None]),
        "access_estsize": math.ceil(size / 1000) if size is not None else None,  # kbyte: 1000 bytes (VOUnit)
    }


def _access_url(source: SourceDescription, deployment: DeploymentSettings, values: dict[str, str]) -> str | None:
    """The template's URL; else the S3 URI of the version read, or a local file's path (the CLI)."""
    if source["bucket"] is None:
        return source.get("path")
    if deployment.access_url:
        return deployment.access_url.format(**values)
    version = source["version_id"]
    query = f"?versionId={quote(version, safe='')}" if version else ""
    return f"s3://{source['bucket']}/{values['key']}{query}"


def calib_level(lookup: Lookup, default: int | None) -> int | None:
    """CALIBLEV, else what HST's calibration switches say, else the deployment's ``default``."""
    level = lookup.find(_caliblev, _hst_switches)
    return default if level is None else level


def _caliblev(keywords: Keywords) -> int | None:
    value = keywords.get("CALIBLEV")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value not in CALIB_LEVELS:
        raise ValueError(f"CALIBLEV={value!r} is not an ObsCore calibration level (0 to 4)")
    return value


def _hst_switches(keywords: Keywords) -> int | None:
    """HST's pipeline switches: drizzled (DRIZCORR done) 3; flat-fielded (FLATCORR done) 2;
    a raw file, its FLATCORR still to PERFORM, is instrumental data in FITS: 1.
    """
    if _switch(keywords, "DRIZCORR") == "COMPLETE":
        return 3
    return {"COMPLETE": 2, "PERFORM": 1}.get(_switch(keywords, "FLATCORR") or "")


def _switch(keywords: Keywords, name: str) -> str | None:
    value = keywords.get(name)
    return value.strip().upper() if isinstance(value, str) else None
