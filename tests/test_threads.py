"""persistent_pool: one pool per name and size for the whole process, its threads reused; exclusive_compute."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from handlers.config import Settings
from handlers.fits import extract
from handlers.pipeline import process
from handlers.storage.local_source import LocalSource
from handlers.storage.outputs import FolderOutput
from handlers.threads import compute
from handlers.threads.pools import persistent_pool

from .support import DRIZZLE


def test_a_pool_is_started_once_and_kept_across_calls() -> None:
    pool = persistent_pool("test-kept", 2)
    first = set(pool.map(lambda _: threading.current_thread().name, range(8)))
    again = persistent_pool("test-kept", 2)
    second = set(again.map(lambda _: threading.current_thread().name, range(8)))
    assert again is pool
    assert first | second <= {"test-kept_0", "test-kept_1"}  # no new threads for the second call
    assert persistent_pool("test-kept", 3) is not pool  # another size is another pool (BATCH_CONCURRENCY changed)


@pytest.mark.parametrize(("whole_object", "in_turn"), [(1024 * 1024, True), (0, False)])
def test_only_an_object_held_whole_is_extracted_computing_exclusively(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, whole_object: int, in_turn: bool
) -> None:
    """Read in one GET, the drizzle file waits on nothing more; read in ranges, it would hold the turn over S3."""
    held = []
    walk = extract._walk

    def spy(*args: Any, **kwargs: Any) -> Any:
        held.append(compute._computing.locked())
        return walk(*args, **kwargs)

    monkeypatch.setattr(extract, "_walk", spy)
    settings = Settings.from_env({"OUTPUT_BUCKET": "unused", "READ_WHOLE_OBJECT_BYTES": str(whole_object)})
    outcome = process(LocalSource(str(DRIZZLE), settings.reads), FolderOutput(tmp_path), settings)
    assert outcome.status == "processed" and held == [in_turn]
    assert not compute._computing.locked()
