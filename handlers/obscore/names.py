"""Who and what: collection, facility, instrument, target, observation id and filter."""

from __future__ import annotations

from handlers.documents import IdentityFields
from handlers.obscore.readers import Lookup, filter_name, text


def identity(lookup: Lookup) -> IdentityFields:
    """Names as the header gives them; ``filter`` is not ObsCore's but what users search by."""
    instrument = lookup.find(text("INSTRUME"))
    detector = lookup.find(text("DETECTOR"))
    return {
        "obs_collection": lookup.find(text("TELESCOP")),
        "facility_name": lookup.find(text("TELESCOP"), text("OBSERVAT")),
        "instrument_name": f"{instrument}/{detector}" if instrument and detector else instrument,
        "target_name": lookup.find(text("OBJECT"), text("TARGNAME")),
        "obs_id": lookup.find(text("OBS_ID"), text("ROOTNAME"), text("OBSID"), text("EXPID")),
        "filter": lookup.find(*map(filter_name, ("FILTER", "FILTER1", "FILTER2", "FILTNAM1", "FILTNAM2"))),
    }
