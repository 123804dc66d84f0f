"""Previews: a picture for every HDU with data (an image, a spectrum, a light curve, an event list), or why not.

``choose`` decides what each HDU gets and reads only what the picture needs, within
``PREVIEW_READ_BYTES``; ``images`` reduces and stretches image planes; ``plots`` draws line
charts with Pillow; ``spectra``, ``lightcurves`` and ``events`` find their series in HDUs.
"""

from __future__ import annotations


class PreviewSkipped(Exception):
    """An HDU that gets no picture; the message is the document's ``preview.skipped`` reason."""
