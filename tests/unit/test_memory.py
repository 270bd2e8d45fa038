"""The whole-community passes keep the cyclic garbage collector off while they run, and leave it
as they found it."""

from __future__ import annotations

import gc
import threading

import pytest

from bot.core.memory import no_cycle_collection


def test_the_collector_is_off_in_the_block_and_as_it_was_after():
    assert gc.isenabled()
    with no_cycle_collection():
        assert not gc.isenabled()
        with no_cycle_collection():  # nested: the inner one leaves it off
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError), no_cycle_collection():
        raise ValueError  # a failure in the block: back on all the same
    assert gc.isenabled()
    gc.disable()
    try:
        with no_cycle_collection():
            pass
        assert not gc.isenabled()  # off before: still off
    finally:
        gc.enable()


def test_passes_in_two_threads_keep_it_off_until_the_last_one_ends():
    """The scheduler's list (a thread of its own) and a console page's (the web executor's) may
    overlap without nesting: the collector stays off until both ended, then is back on."""
    entered, leave_first, first_left = threading.Event(), threading.Event(), threading.Event()

    def first() -> None:
        with no_cycle_collection():
            entered.set()
            leave_first.wait(5)
        first_left.set()

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert entered.wait(5)
        with no_cycle_collection():  # began while the first pass runs, ends after it
            leave_first.set()
            assert first_left.wait(5)
            assert not gc.isenabled()  # the first pass ended: this one still runs
        assert gc.isenabled()
    finally:
        leave_first.set()
        thread.join(5)
        gc.enable()
