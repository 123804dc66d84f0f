"""Who and what: collection, facility, instrument, target, observation id and filter.

Names are normalized so that one instrument has one name across its files: a header that
says nothing (``None``, ``N/A``, ``UNKNOWN``: ``readers.PLACEHOLDERS``) gives no name.
"""

from __future__ import annotations

import re

from handlers.documents import IdentityFields
from handlers.obscore.readers import Lookup, filter_name, text

#: Instruments written with a channel or camera in INSTRUME (SDO's JSOC: AIA_1..AIA_4 are AIA's
#: four telescopes, HMI_FRONT2 and HMI_SIDE1 HMI's cameras): the instrument is the part before it.
CHANNEL_SUFFIXED = re.compile(r"(AIA|HMI)_[A-Z0-9]+", re.IGNORECASE)


def identity(lookup: Lookup, collection: str | None = None) -> IdentityFields:
    """Names as the header gives them, normalized; ``collection`` (the deployment's) overrides TELESCOP.

    ``filter`` is not ObsCore's but what users search by.
    """
    telescope = lookup.find(text("TELESCOP"))
    return {
        "obs_collection": collection or telescope,
        "facility_name": facility_name(telescope or lookup.find(text("OBSERVAT"))),
        "instrument_name": instrument_name(lookup.find(text("INSTRUME")), lookup.find(text("DETECTOR"))),
        "target_name": lookup.find(text("OBJECT"), text("TARGNAME")),
        "obs_id": lookup.find(text("OBS_ID"), text("ROOTNAME"), text("OBSID"), text("EXPID")),
        "filter": lookup.find(*map(filter_name, ("FILTER", "FILTER1", "FILTER2", "FILTNAM1", "FILTNAM2"))),
    }


def facility_name(telescope: str | None) -> str | None:
    """The observatory of a TELESCOP that names it with its instrument ('SDO/AIA' -> 'SDO')."""
    return telescope.split("/", 1)[0].strip() or None if telescope else None


def instrument_name(instrument: str | None, detector: str | None) -> str | None:
    """INSTRUME, and DETECTOR where it says more ('ACS' + 'WFC' -> 'ACS/WFC'; 'AIA_3' + 'AIA' -> 'AIA')."""
    if instrument is not None and (channel := CHANNEL_SUFFIXED.fullmatch(instrument)):
        instrument = channel.group(1).upper()
    if instrument is None or detector is None or detector.upper() == instrument.upper():
        return instrument
    return f"{instrument}/{detector}"
