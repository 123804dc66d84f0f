"""The ObsCore record of a file (the metadata document's ``summary``), field group by field group.

Each group is derived by a module of its own from the same ``Lookup``: every keyword is
looked up in the primary header first, then in the extensions in order; the first usable
value wins, and an unusable one is noted in the warnings and skipped.  Every number is finite or null:
an infinite ``t_max`` or a NaN ``s_ra`` is no fact of the observation, so it is left null
with a warning (the HDU's cards keep what the header says).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from handlers.documents import HduDocument, Summary
from handlers.obscore.columns import COLUMNS, FILTER
from handlers.obscore.kinds import dataproduct_type
from handlers.obscore.names import identity
from handlers.obscore.readers import Lookup
from handlers.obscore.sky import spatial
from handlers.obscore.times import temporal


def observation_summary(hdus: Sequence[HduDocument], notes: list[str] | None = None) -> Summary:
    """ObsCore-named fields (null when unknown) from the documents of describe_hdu.

    Parameters:
        hdus: the file's HDU documents, in file order.
        notes: where given, receives why a field the header seemed to give is null
            (for the metadata document's ``warnings``); it is logged either way.
    """
    lookup = Lookup.of(hdus, notes)
    fields: dict[str, Any] = {
        "dataproduct_type": dataproduct_type(hdus),
        **identity(lookup),
        **spatial(lookup),
        **temporal(lookup),
    }
    return cast(Summary, {column.name: fields[column.name] for column in _ORDER if column.name in fields})


#: The standard's order, then the field it does not have.
_ORDER = (*COLUMNS, FILTER)
