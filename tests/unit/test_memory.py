"""The whole-community passes keep the cyclic garbage collector off while they run, and leave it
as they found it."""

from __future__ import annotations

import gc

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
