"""Passes over the whole community: how they keep the garbage collector out of their way, and
compute what members share once."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")

# The collector's switch is process-wide, and passes run in several threads (the scheduler's
# list, a console page's, a command's assessment): the first pass to begin turns it off, the
# last to end puts it back as the first found it. Under a lock: a pass that read "off" while
# another was running, then turned it off after that one put it back on, left it off for good.
_lock = threading.Lock()
_running = 0  # passes in their block, in every thread
_was_enabled = False  # as the first of them found it


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """No cyclic garbage collection in the block; back on after the last such block in any
    thread ended, if it was on when the first began.

    A pass that keeps a few objects per member of 100k alive (the follow-up list, the
    community's assessment) makes the collector's full collections run again and again over
    everything it built so far: a third of the list's CPU time on the 100k store. Its objects
    hold no reference cycles; reference counting frees them as before. Process-wide while it
    lasts: another thread's cycles wait for the next collection after it."""
    global _running, _was_enabled
    with _lock:
        if _running == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _running += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running == 0 and _was_enabled:
                gc.enable()


class Memo(dict[K, V]):
    """`fn` of each key, computed the first time it is looked up: most of 100k members share one
    of a few values."""

    def __init__(self, fn: Callable[[K], V]) -> None:
        super().__init__()
        self.fn = fn

    def __missing__(self, key: K) -> V:
        value = self[key] = self.fn(key)
        return value
