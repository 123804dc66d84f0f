"""The time an invocation has left, checked between units of work.

Lambda kills an invocation at its timeout without a word; checking the remaining time
between HDUs and between row blocks lets the pipeline write a ``TimeLimitError`` record
while there is still time to write it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from handlers.errors import TimeLimitError


@dataclass(frozen=True)
class Deadline:
    """A point on the monotonic clock after which no new work starts (None: no limit)."""

    at: float | None = None

    @classmethod
    def from_context(cls, context: Any, reserve_s: float) -> Deadline:
        """Lambda's remaining time, less ``reserve_s`` for writing the record."""
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        if remaining is None:
            return cls()
        return cls(time.monotonic() + remaining() / 1000 - reserve_s)

    def check(self, doing: str) -> None:
        if self.at is not None and time.monotonic() > self.at:
            raise TimeLimitError(f"the function's time ran out while {doing}; raise its timeout or reduce the work")
