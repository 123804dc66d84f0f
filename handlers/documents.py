"""The shapes of the documents the processor writes, defined once (see the contract).

They are ``TypedDict``s: the documents stay plain dicts on their way to JSON, and the
type checker holds every module that builds or reads one to the same fields.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

#: A value of a card as strict JSON: a string, number, bool or null; a complex number,
#: NaN or an infinity as a small object (``fits.json_values``, which encodes every value of a document).
CardValue = Any
#: A float as strict JSON: a finite number, or NaN or an infinity as ``{"float": "Infinity"}``.
EncodedFloat = float | dict[str, str]


class Card(TypedDict):
    keyword: str
    value: CardValue
    comment: str | None
    #: astropy could not parse the card: ``value`` is its raw text after the keyword.
    unparsed: NotRequired[bool]


class Column(TypedDict):
    name: str | None
    format: str | None
    unit: str | None
    dim: str | None


class Compression(TypedDict):
    type: str
    tile: list[int]


class SolarObserver(TypedDict):
    """Where and when a solar image was seen from, as the header says (null where it does not)."""

    #: DATE-AVG, else DATE-OBS, DATE-BEG or DATE-END, as written (ISO), or null.
    obstime: str | None
    #: DSUN_OBS: the observer's distance from the Sun's centre, in metres.
    dsun_obs: float | None
    #: HGLN_OBS, HGLT_OBS (or CRLT_OBS), CRLN_OBS: the observer's Stonyhurst and Carrington position, degrees.
    hgln_obs: float | None
    hglt_obs: float | None
    crln_obs: float | None
    #: RSUN_REF: the solar radius the header's coordinates assume, in metres.
    rsun_ref: float | None


class CelestialWcs(TypedDict):
    #: An astropy (or, for the Sun, sunpy) frame name: icrs, fk5, galactic, helioprojective, ...
    frame: str | None
    #: EQUINOX as wcslib read it (null where undefined), encoded where it is not finite.
    equinox: EncodedFloat | None
    ctype: list[str]
    centre: list[float]
    #: The outline's (lon, lat) vertices: a small image's four corners, more for a wide map;
    #: empty for a map of the whole sky (``all_sky``) or one that spans every longitude.
    footprint: list[list[float]]
    all_sky: bool
    #: Pixels along the celestial axes, in FITS axis order (NAXISi of each).
    pixels: list[int]
    pixel_scale_arcsec: list[float]
    #: The solar frames' observer; null for the sky's.
    observer: SolarObserver | None


class SpectralAxis(TypedDict):
    """An image's spectral WCS axis (FITS WCS paper III) and its extent, from the header alone."""

    #: CTYPEi, upper-cased (``VRAD``, ``WAVE-LOG``...), and i.
    ctype: str
    axis: int
    #: NAXISi: the axis's number of pixels.
    pixels: int
    #: The unit of ``world`` (wcslib's SI unit for the type: m, Hz, m/s, J, 1/m), null with it.
    unit: str | None
    #: The axis's values at the outer edges of its first and last pixels, in that order.
    world: list[float] | None
    #: The same edges as vacuum wavelengths in metres, ascending (the rest frequency or
    #: wavelength converts a velocity); null where they cannot be computed.
    wavelength_m: list[float] | None
    #: SPECSYS: the reference frame of the spectral coordinates (LSRK, BARYCENT, TOPOCENT...).
    specsys: str | None
    #: Why ``world`` or ``wavelength_m`` is null (wcslib's message, or the missing card).
    error: str | None


class PreviewAxis(TypedDict, total=False):
    """An axis of a chart or of an event image: what it shows, where it comes from, and its range as drawn
    (a chart's x: the range of the values drawn, which a frame around a single value widens)."""

    quantity: str
    unit: str | None
    #: ``column WAVELENGTH``, ``HDU B_WAVELENGTH``, ``WCS axis 1``, ``pixel index``...
    source: str
    min: float
    max: float
    #: ``linear`` or ``log10`` (a chart's y axis).
    scale: str


class PreviewSeries(TypedDict):
    """One line of a chart: which row or channel it is, its colour, and its finite points."""

    label: str
    colour: str
    points: int


class Preview(TypedDict, total=False):
    """How a thumbnail was drawn, so that a user can redo it; or why none was."""

    skipped: str
    #: ``image``, ``spectrum_2d``, ``spectrum``, ``light_curve``, ``plot`` (a 1-D image) or ``events``.
    kind: str
    #: The FITS axis (1: NAXIS1) along which a 2-D spectrum's wavelength runs.
    dispersion_axis: int
    x: PreviewAxis
    y: PreviewAxis
    interval_parameters: dict[str, float]
    series: list[PreviewSeries]
    #: Series the data holds (rows of spectra, channels), of which ``series`` were drawn.
    series_total: int
    #: The chart's frame in the PNG's pixels: left, top, right, bottom (x: left to right, y: bottom to top).
    plot_area: list[int]
    #: Table rows read of ``table_rows``: all of them, or evenly spaced runs (PREVIEW_READ_BYTES).
    table_rows_read: int
    table_rows: int
    #: An event image: events binned, and the side of a bin in the coordinates' units.
    events: int
    bin_size: float
    interval: str
    percentile: float | None
    vmin: float | None
    vmax: float | None
    stretch: str
    stretch_parameters: dict[str, float]
    mode: str
    nan_fraction: float
    width: int
    height: int
    origin: str
    plane: list[int] | None
    downsample: int
    #: The whole factor a small image was enlarged by (THUMBNAIL_MIN_SIZE), nearest-neighbour; absent when not.
    upsample: int
    reduction: str | None
    rows_sampled: int | None
    source_shape: list[int]


class RandomGroups(TypedDict):
    """A random-groups HDU's data: ``count`` groups, each its parameters and an array."""

    count: int
    #: PTYPEn's values, in order (UVFITS: UU, VV, WW, BASELINE, DATE...); null where a PTYPEn is missing.
    parameters: list[CardValue]
    #: The array of each group, in numpy order as an image's ``shape`` (NAXISn .. NAXIS2).
    shape: list[int]


class DataFields(TypedDict, total=False):
    """What an HDU's header says of its data unit: an image's or a table's."""

    shape: list[int]
    bitpix: int
    bzero: CardValue
    bscale: CardValue
    #: A tile-compressed image's algorithm and tile shape.
    compression: Compression
    rows: int
    columns: list[Column]
    groups: RandomGroups


class HduDocument(DataFields):
    index: int
    name: str
    #: EXTVER as a card's value (1 without one): an integer, unless the header says otherwise.
    ver: CardValue
    #: astropy's class name: PrimaryHDU, ImageHDU, CompImageHDU, BinTableHDU, ...
    type: str
    cards: list[Card]
    wcs: CelestialWcs | None
    #: The first spectral WCS axis of an image, where its CTYPEi says one.
    spectral_axis: SpectralAxis | None
    thumbnail: str | None
    preview: Preview | None


class SourceDescription(TypedDict):
    bucket: str | None
    key: str
    version_id: str | None
    etag: str | None
    size: int | None
    #: A local file's absolute path (the CLI).
    path: NotRequired[str]
    #: Whole-file compression: gzip, bzip2, xz, or None.
    compression: NotRequired[str | None]


class SourceIdentity(TypedDict):
    """What a metadata document records of its source, to recognise a re-delivery."""

    etag: str
    version_id: str


class Processor(TypedDict):
    name: str
    version: str
    processed_at: str
    bytes_read: int
    requests: int


class IdentityFields(TypedDict):
    obs_collection: str | None
    facility_name: str | None
    instrument_name: str | None
    target_name: str | None
    obs_id: str | None
    #: Not an ObsCore column, but what users search by.
    filter: str | None


class SpatialFields(TypedDict):
    s_ra: float | None
    s_dec: float | None
    s_fov: float | None
    s_region: str | None
    s_resolution: float | None
    s_xel1: int | None
    s_xel2: int | None


class TemporalFields(TypedDict):
    """Instants as MJD in UTC, durations in seconds (``obscore.times``)."""

    t_min: float | None
    t_max: float | None
    t_exptime: float | None
    t_resolution: float | None
    t_xel: int | None


class AccessFields(TypedDict):
    """Where and how the file is had: from the source and the deployment (``obscore.access``)."""

    obs_publisher_did: str | None
    access_url: str | None
    access_format: str
    #: kbyte (1000 bytes), rounded up.
    access_estsize: int | None


class ObservableFields(TypedDict):
    o_ucd: str | None
    #: ObsCore's notation: the states between slashes, ``/I/Q/U/V/``.
    pol_states: str | None
    pol_xel: int | None


class SpectralFields(TypedDict):
    #: Vacuum wavelengths in metres, the band's bounds (``obscore.spectral``).
    em_min: float | None
    em_max: float | None
    #: λ/Δλ where the header states a resolving power (not the pixel sampling).
    em_res_power: float | None
    #: The spectral WCS axis's number of pixels.
    em_xel: int | None


class Summary(IdentityFields, SpatialFields, TemporalFields, AccessFields, ObservableFields, SpectralFields):
    """The observation's IVOA ObsCore record (``obscore.columns``), by group of fields."""

    dataproduct_type: str | None
    calib_level: int | None


class MetadataDocument(TypedDict):
    source: SourceDescription
    processor: Processor
    hdus: list[HduDocument]
    summary: Summary
    warnings: list[str]


#: Why an input was refused: the ``IngestError`` subclass's name (``class``) and its message.
ErrorFields = TypedDict("ErrorFields", {"class": str, "message": str})


class ErrorRecord(TypedDict):
    source: SourceDescription
    error: ErrorFields
    processor: Processor
