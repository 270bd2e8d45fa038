"""What other features may use of outreach: queueing a message to members, who unsubscribed, and
unsubscribing one."""

from __future__ import annotations

from bot.features.outreach.service import message_for, queue, set_subscribed, unsubscribed

__all__ = ["message_for", "queue", "set_subscribed", "unsubscribed"]
