"""Settings from the environment, validated once per cold start.

Every variable except ``OUTPUT_BUCKET`` has a default (``INBOX_BUCKET``, when set, is only
checked against it); the README lists them all.
A bad value stops the function with a message naming the variable and the value,
rather than surfacing later as a confusing failure on some object.
"""

from __future__ import annotations

import os
import string
from collections.abc import Mapping
from dataclasses import dataclass, field

from handlers.errors import ConfigurationError, RecursiveTriggerError
from handlers.fits.format import BLOCK, CARD

INTERVALS = ("zscale", "percentile")
STRETCHES = ("linear", "sqrt", "log", "asinh")


@dataclass(frozen=True)
class ThumbnailSettings:
    """How previews are drawn; recorded in each HDU's ``preview`` so users can redo them."""

    max_size: int = 512
    #: An image whose longest side is shorter is enlarged by a whole factor, nearest-neighbour, towards it
    #: (1: never), so that a tiny image is a picture one can see rather than a few dots.
    min_size: int = 64
    interval: str = "zscale"
    percentile: float = 99.5
    stretch: str = "linear"
    block_bytes: int = 8 * 1024 * 1024
    #: Above this many pixels in the shown plane, only some rows of each tile are read.
    max_pixels: int = 2**28
    #: Most bytes of a tile-compressed plane decompressed in one call, where its tiles are taller than a
    #: row block (a row block would decompress them again and again); above it the preview is skipped.
    max_tile_bytes: int = 128 * 1024 * 1024
    #: Most bytes read for a chart or an event image (a table's rows, a 1-D array, the rows of spectra charted);
    #: a table over it is read in evenly spaced runs of rows, anything else over it skipped.
    read_bytes: int = 32 * 1024 * 1024


@dataclass(frozen=True)
class ReadSettings:
    """How the object is read from S3: read-ahead for headers, parallel parts for data."""

    read_ahead: int = 64 * 1024
    part_bytes: int = 8 * 1024 * 1024
    concurrency: int = 8
    #: An object of at most this many bytes is fetched whole, in one GET.
    whole_object: int = 1024 * 1024

    def fetches_whole(self, size: int) -> bool:
        """Whether an object of ``size`` bytes is fetched in one GET and then held in memory."""
        return size <= self.whole_object


@dataclass(frozen=True)
class LimitSettings:
    """Bounds that keep one hostile object from exhausting the function."""

    max_object_bytes: int = 100 * 1024**3
    max_decompressed_bytes: int = 1024**3
    #: Cards before one header's END: a header with no END is refused after reading this many.
    max_header_cards: int = 100_000
    #: Cards of all the file's headers: each card kept costs memory until the document is written.
    max_file_cards: int = 250_000
    #: Bytes of the metadata document (its HDUs' documents as JSON).
    max_document_bytes: int = 64 * 1024 * 1024
    max_hdus: int = 1_000
    max_thumbnails: int = 100
    #: Seconds kept back from Lambda's remaining time to write the timeout record.
    time_reserve_s: float = 10.0


#: The fields a template of ``DeploymentSettings`` may name: the object's bucket and (percent-encoded) key.
TEMPLATE_FIELDS = ("bucket", "key")
#: ObsCore's calibration levels: 0 raw, 1 instrumental in a standard format, 2 calibrated,
#: 3 enhanced (combined, mosaicked), 4 analysis products (ObsCore 1.1, 4.3).
CALIB_LEVELS = range(0, 5)


@dataclass(frozen=True)
class DeploymentSettings:
    """The ObsCore columns that the archive, not the file, says (the README's summary table)."""

    #: ``obs_publisher_did``'s template, e.g. ``ivo://example.org/fits?{key}``; unset: null.
    publisher_did: str | None = None
    #: ``access_url``'s template, e.g. ``https://{bucket}.s3.amazonaws.com/{key}``; unset: the S3 URI.
    access_url: str | None = None
    #: ``obs_collection`` for every file, over TELESCOP.
    collection: str | None = None
    #: ``calib_level`` where no keyword gives it.
    calib_level: int | None = None


@dataclass(frozen=True)
class Settings:
    """Everything the pipeline needs to know that is not in the event."""

    output_bucket: str | None = None
    #: Objects of one invocation (an SQS batch, a list of URIs) processed at once.
    batch_concurrency: int = 5
    thumbnails: ThumbnailSettings = field(default_factory=ThumbnailSettings)
    reads: ReadSettings = field(default_factory=ReadSettings)
    limits: LimitSettings = field(default_factory=LimitSettings)
    deployment: DeploymentSettings = field(default_factory=DeploymentSettings)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and check every variable; raise ConfigurationError naming the bad one."""
        env = os.environ if env is None else env
        shown, read, bounds = ThumbnailSettings(), ReadSettings(), LimitSettings()  # the defaults, stated once
        thumbnails = ThumbnailSettings(
            max_size=_int(env, "THUMBNAIL_MAX_SIZE", shown.max_size, minimum=1),
            min_size=_int(env, "THUMBNAIL_MIN_SIZE", shown.min_size, minimum=1),
            interval=_choice(env, "THUMBNAIL_INTERVAL", shown.interval, INTERVALS),
            percentile=_float(env, "THUMBNAIL_PERCENTILE", shown.percentile, low=0.0, high=100.0),
            stretch=_choice(env, "THUMBNAIL_STRETCH", shown.stretch, STRETCHES),
            block_bytes=_int(env, "THUMBNAIL_BLOCK_BYTES", shown.block_bytes, minimum=1024),
            max_pixels=_int(env, "MAX_THUMBNAIL_PIXELS", shown.max_pixels, minimum=1),
            max_tile_bytes=_int(env, "MAX_TILE_BYTES", shown.max_tile_bytes, minimum=0),
            read_bytes=_int(env, "PREVIEW_READ_BYTES", shown.read_bytes, minimum=BLOCK),
        )
        reads = ReadSettings(
            read_ahead=_int(env, "READ_AHEAD_BYTES", read.read_ahead, minimum=BLOCK),
            part_bytes=_int(env, "READ_PART_BYTES", read.part_bytes, minimum=64 * 1024),
            concurrency=_int(env, "READ_CONCURRENCY", read.concurrency, minimum=1),
            whole_object=_int(env, "READ_WHOLE_OBJECT_BYTES", read.whole_object, minimum=0),
        )
        limits = LimitSettings(
            max_object_bytes=_int(env, "MAX_OBJECT_BYTES", bounds.max_object_bytes, minimum=BLOCK),
            max_decompressed_bytes=_int(env, "MAX_DECOMPRESSED_BYTES", bounds.max_decompressed_bytes, minimum=BLOCK),
            max_header_cards=_int(env, "MAX_HEADER_CARDS", bounds.max_header_cards, minimum=BLOCK // CARD),
            max_file_cards=_int(env, "MAX_FILE_CARDS", bounds.max_file_cards, minimum=BLOCK // CARD),
            max_document_bytes=_int(env, "MAX_DOCUMENT_BYTES", bounds.max_document_bytes, minimum=BLOCK),
            max_hdus=_int(env, "MAX_HDUS", bounds.max_hdus, minimum=1),
            max_thumbnails=_int(env, "MAX_THUMBNAILS", bounds.max_thumbnails, minimum=0),
            time_reserve_s=_float(env, "TIME_RESERVE_SECONDS", bounds.time_reserve_s, low=0.0, high=900.0),
        )
        deployment = DeploymentSettings(
            publisher_did=_template(env, "OBSCORE_PUBLISHER_DID"),
            access_url=_template(env, "OBSCORE_ACCESS_URL"),
            collection=(env.get("OBSCORE_COLLECTION") or "").strip() or None,
            calib_level=_optional_int(env, "OBSCORE_CALIB_LEVEL", CALIB_LEVELS),
        )
        output_bucket = env.get("OUTPUT_BUCKET") or None
        if output_bucket and output_bucket == env.get("INBOX_BUCKET"):
            raise RecursiveTriggerError(
                f"OUTPUT_BUCKET and INBOX_BUCKET are both {output_bucket!r}: every output would trigger the function"
            )
        return cls(
            output_bucket=output_bucket,
            batch_concurrency=_int(env, "BATCH_CONCURRENCY", cls.batch_concurrency, minimum=1),
            thumbnails=thumbnails,
            reads=reads,
            limits=limits,
            deployment=deployment,
        )

    def require_output_bucket(self) -> str:
        """The Lambda cannot run without a destination; the CLI passes --out instead."""
        if not self.output_bucket:
            raise ConfigurationError("OUTPUT_BUCKET is not set: the function has nowhere to write")
        return self.output_bucket


def _int(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum}, got {raw!r}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number, got {raw!r}") from None
    if not low < value <= high:
        raise ConfigurationError(f"{name} must be in ({low}, {high}], got {raw!r}")
    return value


def _template(env: Mapping[str, str], name: str) -> str | None:
    """A template naming only ``TEMPLATE_FIELDS`` (``{key}``...), checked here rather than at the first file."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    try:
        named = {field for _, field, _, _ in string.Formatter().parse(raw) if field is not None}
    except ValueError as exc:
        raise ConfigurationError(f"{name} is not a template: {exc}; got {raw!r}") from None
    if unknown := named - set(TEMPLATE_FIELDS):
        raise ConfigurationError(f"{name} may name only {{bucket}} and {{key}}, not {sorted(unknown)}; got {raw!r}")
    try:
        raw.format(**dict.fromkeys(TEMPLATE_FIELDS, ""))  # a conversion or format spec that fails
    except (ValueError, IndexError, KeyError) as exc:
        raise ConfigurationError(f"{name} is not a template: {exc}; got {raw!r}") from None
    return raw


def _optional_int(env: Mapping[str, str], name: str, allowed: range) -> int | None:
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    value = _int(env, name, allowed.start, minimum=allowed.start)
    if value not in allowed:
        raise ConfigurationError(f"{name} must be one of {allowed.start}..{allowed.stop - 1}, got {raw!r}")
    return value


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = (env.get(name) or default).strip().lower()
    if value not in choices:
        raise ConfigurationError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value
