"""The ObsCore record of a file (the metadata document's ``summary``), field group by field group.

Each group is derived by a module of its own from the same ``Lookup``: every keyword is
looked up in the primary header first, then in the extensions in order; the first usable
value wins, and an unusable one is noted in the warnings and skipped.  Every number is finite or null:
an infinite ``t_max`` or a NaN ``s_ra`` is no fact of the observation, so it is left null
with a warning (the HDU's cards keep what the header says).  Every one of the standard's
30 columns is in the record, null where no group derives it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from handlers.config import DeploymentSettings
from handlers.documents import HduDocument, SourceDescription, Summary
from handlers.obscore.access import access, calib_level
from handlers.obscore.columns import COLUMNS, FILTER
from handlers.obscore.kinds import dataproduct_type
from handlers.obscore.names import identity
from handlers.obscore.observable import observable
from handlers.obscore.readers import Lookup
from handlers.obscore.sky import spatial
from handlers.obscore.spectral import spectral
from handlers.obscore.times import temporal


def observation_summary(
    hdus: Sequence[HduDocument],
    notes: list[str] | None = None,
    *,
    source: SourceDescription | None = None,
    deployment: DeploymentSettings | None = None,
) -> Summary:
    """The ObsCore record (null where unknown) from the documents of describe_hdu.

    Parameters:
        hdus: the file's HDU documents, in file order.
        notes: where given, receives why a field the header seemed to give is null
            (for the metadata document's ``warnings``); it is logged either way.
        source: the object read (``access_url``, ``access_estsize``...); none: those are null.
        deployment: the archive's settings (``obs_publisher_did``, ``obs_collection``...).
    """
    deployment = deployment or DeploymentSettings()
    lookup = Lookup.of(hdus, notes)
    fields: dict[str, Any] = {
        "dataproduct_type": dataproduct_type(lookup),
        "calib_level": calib_level(lookup, deployment.calib_level),
        **identity(lookup, deployment.collection),
        **access(source, deployment),
        **spatial(lookup),
        **temporal(lookup),
        **spectral(lookup),
        **observable(lookup),
    }
    return cast(Summary, {column.name: fields.get(column.name) for column in _ORDER})


#: The standard's order, then the field it does not have.
_ORDER = (*COLUMNS, FILTER)
