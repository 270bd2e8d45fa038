"""What other features may ask the FAQ: the 1:1 questions waiting for an operator."""

from __future__ import annotations

from bot.features.faq.service import KIND, OpenQuestion, has_questions, open_questions

__all__ = ["KIND", "OpenQuestion", "has_questions", "open_questions"]
