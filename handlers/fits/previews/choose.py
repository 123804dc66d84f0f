"""What each HDU with data gets: an image, a chart, an event image, or the reason it gets none.

Decided from the header (the HDU's document) and what earlier HDUs of the file left in the
``FileContext`` (wavelength arrays, for the pairing rule of ``spectra``), in this order:

* an image: a ``<P>WAVELENGTH`` array is kept for later HDUs, and the earlier ones it pairs with
  are charted again against it; an HDU paired with one is charted against it; an image with one
  axis longer than a pixel is charted (a spectrum where that axis is spectral); one of a single
  pixel, or whose shown plane is one row or column, is skipped; any other is drawn as an image,
  as it always was (a 2-D spectrum says its dispersion axis), except an empty mask (an integer
  image named DQ, MASK, QUALITY... of one value);
* a binary table: an event list's coordinates binned, else wavelength against flux, else time
  against rate or flux; any other table is skipped, saying which columns it would need.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from handlers.config import ThumbnailSettings
from handlers.deadline import Deadline
from handlers.documents import HduDocument
from handlers.errors import IngestError
from handlers.fits.format import is_image, is_table
from handlers.fits.previews import PreviewSkipped
from handlers.fits.previews.images import Thumbnail
from handlers.storage.interfaces import ByteStream, SourceStream

if TYPE_CHECKING:  # spectra reads the axis kinds of obscore/, imported when an HDU is drawn, not with ingest
    from handlers.fits.previews.spectra import Wavelengths

GROUPS = "GroupsHDU"
#: Words of an EXTNAME that make an integer image a mask or quality array.
FLAG_NAMES = frozenset({"DQ", "MASK", "QUALITY", "FLAGS", "FLAG", "BPM", "BADPIX"})


@dataclass
class FileContext:
    """What the HDUs read so far leave for later ones: the file's wavelength arrays, and the pictures
    drawn before a wavelength array that pairs with them was read (DESI's frames write it after FLUX)."""

    wavelengths: list[Wavelengths] = field(default_factory=list)
    #: Image HDUs drawn without a wavelength array: their HDU and document.
    unpaired: list[tuple[Any, HduDocument]] = field(default_factory=list)
    #: Documents of earlier HDUs drawn again against a wavelength array just read, with the chart (None:
    #: skipped, the reason in the document); taken by the caller, which replaces their pictures.
    redrawn: list[tuple[HduDocument, Thumbnail | None]] = field(default_factory=list)


def has_data(doc: HduDocument) -> bool:
    """Whether an HDU's header gives it a data unit (NAXIS > 0, or a table), which gets a picture or a reason."""
    return is_table(doc["type"]) or doc["type"] == GROUPS or (is_image(doc["type"]) and bool(doc.get("shape")))


def draw_preview(
    hdu: Any, doc: HduDocument, context: FileContext, settings: ThumbnailSettings, deadline: Deadline,
    stream: ByteStream, ranged: SourceStream | None,
) -> Thumbnail:
    """The HDU's picture; raise PreviewSkipped with the reason it has none.

    ``stream``: the bytes astropy reads the HDU from (a table's rows are read from it directly);
    ``ranged``: the same stream where it can read ahead, None for a copy in memory.
    """
    if doc["type"] == GROUPS:
        raise PreviewSkipped("random groups (interferometer visibilities) are not drawn")
    if is_table(doc["type"]):
        with _unreadable_skipped():
            return _table(hdu, doc, settings, deadline, stream)
    return _image(hdu, doc, context, settings, deadline, ranged)


@contextmanager
def _unreadable_skipped() -> Iterator[None]:
    """A chart's data that astropy or numpy cannot make sense of costs the HDU its picture, not the file
    its metadata (tables were described from their headers alone before they were charted); the time
    limit and the store's faults (IngestError, and the reader's remembered fault) still end the object."""
    try:
        yield
    except (PreviewSkipped, IngestError):
        raise
    except Exception as exc:  # noqa: BLE001 - astropy and numpy signal bad columns with many exception types
        raise PreviewSkipped(f"its data could not be read for a chart: {type(exc).__name__}: {exc}") from exc


def _image(
    hdu: Any, doc: HduDocument, context: FileContext, settings: ThumbnailSettings, deadline: Deadline,
    ranged: SourceStream | None,
) -> Thumbnail:
    from handlers.fits.previews import spectra

    shape = list(doc["shape"])  # numpy order
    if 0 in shape:
        raise PreviewSkipped(f"it has no pixels: its shape is {shape}")
    name = str(hdu.name).strip().upper()
    if spectra.is_wavelength_array(name, shape):
        with _unreadable_skipped():
            wavelengths = spectra.read_wavelengths(hdu, shape, settings.read_bytes)
        context.wavelengths.append(wavelengths)
        _redraw_paired(context, wavelengths, settings, deadline)
        prefix = wavelengths.prefix
        raise PreviewSkipped(f"a wavelength array: the x axis of the charts of the HDUs named {prefix}* whose "
                             "rows are as long")
    paired = spectra.partner(name, shape, context.wavelengths)
    if paired is not None:
        with _unreadable_skipped():
            return spectra.draw_paired(hdu, shape, paired, settings, deadline)
    thumbnail = _unpaired_image(hdu, shape, settings, deadline, ranged)
    context.unpaired.append((hdu, doc))
    return thumbnail


def _redraw_paired(context: FileContext, wavelengths: Wavelengths, settings: ThumbnailSettings,
                   deadline: Deadline) -> None:
    """Chart again, against ``wavelengths``, the earlier HDUs drawn without them that they pair with."""
    from handlers.fits.previews import spectra

    for hdu, doc in list(context.unpaired):
        name = str(hdu.name).strip().upper()
        if doc["thumbnail"] is None or spectra.partner(name, doc["shape"], [wavelengths]) is None:
            continue
        context.unpaired.remove((hdu, doc))
        try:
            with _unreadable_skipped():
                context.redrawn.append((doc, spectra.draw_paired(hdu, doc["shape"], wavelengths, settings, deadline)))
        except PreviewSkipped as skipped:
            doc["preview"] = {"skipped": str(skipped)}
            context.redrawn.append((doc, None))


def _unpaired_image(
    hdu: Any, shape: list[int], settings: ThumbnailSettings, deadline: Deadline, ranged: SourceStream | None
) -> Thumbnail:
    """An image paired with no wavelength array: a chart of its one long axis, or a picture."""
    from handlers.fits.previews import spectra
    from handlers.fits.previews.image_hdus import draw_thumbnail

    long_axes = [n for n in shape if n > 1]
    if not long_axes:
        raise PreviewSkipped(f"a single pixel (shape {shape})")
    if len(long_axes) == 1:
        with _unreadable_skipped():
            return spectra.draw_line(hdu, shape, settings, deadline)
    if 1 in shape[-2:]:
        raise PreviewSkipped(f"its shown plane is {shape[-2]}x{shape[-1]} pixels: one row or column of a cube")
    thumbnail = draw_thumbnail(hdu, settings, deadline, ranged)
    preview = thumbnail.preview
    if _is_flags(hdu) and preview["vmin"] is not None and preview["vmin"] == preview["vmax"]:
        raise PreviewSkipped(f"every pixel is {preview['vmin']:g}: a mask or quality array with nothing to show")
    dispersion = spectra.dispersion_axis(hdu.header)
    preview["kind"] = "image" if dispersion is None else "spectrum_2d"
    if dispersion is not None:
        preview["dispersion_axis"] = dispersion
    return thumbnail


def _is_flags(hdu: Any) -> bool:
    """Whether an image is a mask or quality array: integers, named so (DQ, MASK, QUALITY...) as HST, JWST,
    DESI and most pipelines name them.  Another image of one value is still drawn (grey), as it always was."""
    words = set(re.split(r"[^A-Z0-9]+", str(hdu.name).upper()))
    return int(hdu.header.get("BITPIX", 0)) > 0 and bool(words & FLAG_NAMES)


def _table(
    hdu: Any, doc: HduDocument, settings: ThumbnailSettings, deadline: Deadline, stream: ByteStream
) -> Thumbnail:
    from handlers.fits.previews.events import draw_events, event_columns
    from handlers.fits.previews.lightcurves import light_curve_columns
    from handlers.fits.previews.spectra import table_columns
    from handlers.fits.previews.tables import draw_columns

    names = [c["name"] for c in doc.get("columns", []) if isinstance(c["name"], str)]
    if not doc.get("rows"):
        raise PreviewSkipped("the table has no rows")
    events = event_columns(str(hdu.name), hdu.header.get("HDUCLAS1"), names)
    spectrum = table_columns(names)
    light_curve = light_curve_columns(names)
    if events is None and spectrum is None and light_curve is None:
        raise PreviewSkipped("no columns a preview draws: event coordinates (in EVENTS), a wavelength, frequency, "
                             "energy or channel with a flux, rate or counts, or TIME with a rate or flux")
    if doc["type"] != "BinTableHDU":
        raise PreviewSkipped("an ASCII table: only binary tables are read for a preview")
    if events is not None:
        return draw_events(hdu, events, stream, settings, deadline)
    if spectrum is not None:
        x_name, quantity, y_name = spectrum
        return draw_columns(hdu, "spectrum", (x_name, quantity), y_name, stream, settings, deadline)
    time, y_name = light_curve or ("", "")
    return draw_columns(hdu, "light_curve", (time, "time"), y_name, stream, settings, deadline)
