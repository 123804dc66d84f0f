"""Warnings handled by the thread that raised them: recorded, ignored or raised, apart from other threads'.

``warnings.catch_warnings`` swaps the warnings module's state, which belongs to the process:
objects read concurrently (a batch in the Lambda, inputs of the CLI) lost or swapped the
warnings of their documents, and a filter one thread set (VerifyWarning as an error, while
its cards are read) applied to every other.  Here one hook, installed while any thread
handles warnings, sends each warning to the innermost handler of the thread that raised it;
a thread without one gets Python's usual treatment, each warning shown once where it is raised
(deprecation, import and resource warnings ignored, as the default filters do).
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO, cast

Handler = Callable[[warnings.WarningMessage], None]

#: What the default filters ignore outside ``__main__``; a thread without a handler ignores them too.
_QUIET = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)

_local = threading.local()
_lock = threading.Lock()
_active = 0  # handlers in use, over all threads
_shown: set[tuple[str, type[Warning], str, int]] = set()
_passed_on: Callable[..., Any] | None = None  # the hook found when ours was put in place


def _dispatch(
    message: Warning | str, category: type[Warning], filename: str, lineno: int,
    file: TextIO | None = None, line: str | None = None,
) -> None:
    handlers: list[Handler] = getattr(_local, "handlers", [])
    if handlers:
        handlers[-1](warnings.WarningMessage(message, category, filename, lineno, file, line))
        return
    seen = (str(message), category, filename, lineno)
    if issubclass(category, _QUIET) or seen in _shown or _passed_on is None:
        return
    _shown.add(seen)
    _passed_on(message, category, filename, lineno, file, line)


def _install() -> None:
    """Under ``_lock``: our hook in place, and every warning let through the filters to reach it.

    Checked at every use, since a caller's ``catch_warnings`` (pytest's, around each test)
    puts its own state back when it ends.
    """
    global _passed_on
    import astropy  # noqa: F401  # its logger puts its own hook in place on first import: ours goes outside it

    if warnings.showwarning is not _dispatch:
        _passed_on = warnings.showwarning
        warnings.showwarning = _dispatch
    if not warnings.filters or warnings.filters[0][0] != "always" or warnings.filters[0][2] is not Warning:
        warnings.simplefilter("always")


def _uninstall() -> None:
    """Under ``_lock``, once no thread handles warnings: the filters as they were."""
    if warnings.filters and warnings.filters[0][0] == "always" and warnings.filters[0][2] is Warning:
        # No registry learnt anything while it stood ("always" records nothing), so none is stale.
        cast(list[Any], warnings.filters).pop(0)  # the module's own list: typeshed calls it a Sequence


@contextmanager
def _handled_by(handler: Handler) -> Iterator[None]:
    global _active
    handlers: list[Handler] = _local.__dict__.setdefault("handlers", [])
    with _lock:
        _install()
        _active += 1
    handlers.append(handler)
    try:
        yield
    finally:
        handlers.pop()
        with _lock:
            _active -= 1
            if not _active:
                _uninstall()


@contextmanager
def recorded() -> Iterator[list[warnings.WarningMessage]]:
    """Every warning this thread raises in the block, each time it is raised, in order."""
    caught: list[warnings.WarningMessage] = []
    with _handled_by(caught.append):
        yield caught


@contextmanager
def ignored(raising: tuple[type[Warning], ...] = ()) -> Iterator[None]:
    """This thread's warnings dropped in the block, except those of the ``raising`` classes,
    raised as exceptions where they are warned (as the filter action "error" does)."""

    def handle(caught: warnings.WarningMessage) -> None:
        if issubclass(caught.category, raising):
            raise caught.message if isinstance(caught.message, Warning) else caught.category(caught.message)

    with _handled_by(handle):
        yield
