"""Fixtures shared by the pure-logic tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tagging.matcher import Tokenizer


@pytest.fixture
def count_lcut(monkeypatch: pytest.MonkeyPatch) -> Callable[[Tokenizer], list[str]]:
    """`count_lcut(tokenizer)` records every text that tokenizer is asked to cut."""

    def install(tokenizer: Tokenizer) -> list[str]:
        calls: list[str] = []
        real_lcut = tokenizer.lcut

        def counting_lcut(text: str) -> list[str]:
            calls.append(text)
            return real_lcut(text)

        monkeypatch.setattr(tokenizer, "lcut", counting_lcut)
        return calls

    return install
