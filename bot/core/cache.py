"""Results that were slow to compute (a big scope's typing, its playbook models), kept a while."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class SlowCache:
    """Keeps what took at least `slow` seconds to compute for `ttl` seconds.

    A room of a few hundred members is computed afresh on every request; typing or scoring
    a whole store of 100k members takes seconds, so the console reuses that result for
    `ttl` seconds within the hour its key names (types and segments move over days, not
    minutes). Keys start with what is cached ("scope", "playbook", ...)."""

    def __init__(self, ttl: float = 600.0, slow: float = 0.5) -> None:
        self.ttl, self.slow = ttl, slow
        self._items: dict[Hashable, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            hit = self._items.get(key)
            if hit and time.monotonic() - hit[0] < self.ttl:
                value: T = hit[1]
                return value
        started = time.perf_counter()
        value = compute()
        if time.perf_counter() - started >= self.slow:
            with self._lock:
                self._items[key] = (time.monotonic(), value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
