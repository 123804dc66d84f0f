"""Warnings belong to the thread that raised them: objects read concurrently keep their own.

Every case holds its threads together with a barrier, so that their handlers are in use at
the same moment (a clock would only make that likely).
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from astropy.io import fits
from astropy.io.fits.verify import VerifyWarning

from handlers.config import Settings
from handlers.fits import extract
from handlers.pipeline import Status, process
from handlers.storage.local_source import LocalSource
from handlers.storage.outputs import FolderOutput
from handlers.threads.thread_warnings import ignored, recorded


def together(*works: Callable[[threading.Barrier], Any]) -> list[Any]:
    barrier = threading.Barrier(len(works), timeout=30)
    with ThreadPoolExecutor(len(works)) as pool:
        futures = [pool.submit(work, barrier) for work in works]
        return [future.result() for future in futures]


def warn_twice(name: str) -> Callable[[threading.Barrier], list[str]]:
    def work(barrier: threading.Barrier) -> list[str]:
        with recorded() as caught:
            warnings.warn(f"{name} first", UserWarning, stacklevel=1)
            barrier.wait()  # both threads are recording now
            warnings.warn(f"{name} second", UserWarning, stacklevel=1)
            barrier.wait()
        return [str(w.message) for w in caught]
    return work


def test_threads_recording_at_once_keep_their_own_warnings_in_order() -> None:
    assert together(warn_twice("a"), warn_twice("b")) == [["a first", "a second"], ["b first", "b second"]]


def test_a_warning_raised_as_an_error_in_one_thread_is_only_recorded_in_another() -> None:
    def strict(barrier: threading.Barrier) -> str:
        with ignored(raising=(VerifyWarning,)):
            barrier.wait()  # the other thread warns while this one raises VerifyWarnings
            barrier.wait()
            try:
                warnings.warn("mine", VerifyWarning, stacklevel=1)
            except VerifyWarning as exc:
                return f"raised {exc}"
            return "not raised"

    def recording(barrier: threading.Barrier) -> list[str]:
        with recorded() as caught:
            barrier.wait()
            warnings.warn("theirs", VerifyWarning, stacklevel=1)
            warnings.warn("dropped elsewhere", UserWarning, stacklevel=1)
            barrier.wait()
        return [str(w.message) for w in caught]

    assert together(strict, recording) == ["raised mine", ["theirs", "dropped elsewhere"]]


def test_a_warning_repeated_at_one_place_is_recorded_each_time() -> None:
    """astropy warns from the same line for every file: the second file's document needs it too."""
    with pytest.warns(UserWarning):
        for _ in range(2):
            warnings.warn("once shown", UserWarning, stacklevel=1)  # the usual filters would show it once
    with recorded() as caught:
        for _ in range(3):
            warnings.warn("again", UserWarning, stacklevel=1)
    assert [str(w.message) for w in caught] == ["again"] * 3


def test_the_filters_are_as_they_were_once_no_thread_handles_warnings() -> None:
    before = list(warnings.filters)
    with recorded(), ignored():
        assert warnings.filters[0][0] == "always"
    assert list(warnings.filters) == before


def small_image(path: Path, name: str) -> Path:
    fits.PrimaryHDU(np.arange(64 * 64, dtype=np.float32).reshape(64, 64)).writeto(path / name)
    return path / name


def test_objects_read_at_once_keep_their_own_warnings_in_their_documents(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Two files read in ranges (no exclusive turn), each warning before and after the other does."""
    barrier = threading.Barrier(2, timeout=30)
    walk = extract._walk

    def walk_warning(stream: Any, key: str, *args: Any) -> Any:
        warnings.warn(f"{key} before", UserWarning, stacklevel=1)
        barrier.wait()  # both objects are inside their extraction
        warnings.warn(f"{key} after", UserWarning, stacklevel=1)
        barrier.wait()
        return walk(stream, key, *args)

    monkeypatch.setattr(extract, "_walk", walk_warning)
    settings = Settings.from_env({"READ_WHOLE_OBJECT_BYTES": "0"})
    out = FolderOutput(tmp_path / "out")
    sources = [LocalSource(str(small_image(tmp_path, name)), settings.reads) for name in ("a.fits", "b.fits")]
    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(lambda source: process(source, out, settings), sources))
    assert [o.status for o in outcomes] == [Status.PROCESSED, Status.PROCESSED]
    assert [o.warnings for o in outcomes] == [
        ["UserWarning: a.fits before", "UserWarning: a.fits after"],
        ["UserWarning: b.fits before", "UserWarning: b.fits after"],
    ]
