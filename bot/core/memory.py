"""Passes over the whole community: how they keep the garbage collector out of their way."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """No cyclic garbage collection in the block; back on afterwards if it was on.

    A pass that keeps a few objects per member of 100k alive (the follow-up list, the
    community's assessment) makes the collector's full collections run again and again over
    everything it built so far: a third of the list's CPU time on the 100k store. Its objects
    hold no reference cycles; reference counting frees them as before. Process-wide while it
    lasts: another thread's cycles wait for the next collection after it."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
