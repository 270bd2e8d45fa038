"""Imports Python Wechaty 0.10.7 with the fixes it needs on Python >= 3.11 and 1.x servers."""

from __future__ import annotations

import logging
import os
import tempfile
import warnings

# Importing wechaty creates its cache dir (default `.wechaty` in the cwd) as a side effect;
# keep it out of the working tree unless the operator chose one.
os.environ.setdefault("CACHE_DIR", os.path.join(tempfile.gettempdir(), "qunguan-wechaty-cache"))

with warnings.catch_warnings():
    # wechaty imports the deprecated telnetlib and pyee's old top-level AsyncIOEventEmitter.
    warnings.simplefilter("ignore", DeprecationWarning)
    import wechaty_puppet
    from wechaty_puppet import PuppetOptions

    # Python >= 3.11 rejects the unhashable PuppetOptions() default of a dataclass field in
    # WechatyOptions ("mutable default"); an identity hash lets wechaty import. The default
    # instance is then shared, so callers always pass their own PuppetOptions.
    if getattr(PuppetOptions, "__hash__", None) is None:
        PuppetOptions.__hash__ = object.__hash__

    from grpclib.exceptions import GRPCError, StreamTerminatedError
    from wechaty import Wechaty, WechatyOptions
    from wechaty_puppet import WechatyPuppetError
    from wechaty_puppet_service import PuppetService


_WECHATY_LOG_FORMAT = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"


def _route_wechaty_logs() -> None:
    # wechaty_puppet.get_logger gives every wechaty logger its own stderr handler at INFO and
    # turns propagation off, bypassing the app's logging; hand them back to it, at WARNING
    # unless WECHATY_LOG asks for more.
    level = logging.NOTSET if os.environ.get("WECHATY_LOG") else logging.WARNING
    for logger in list(logging.Logger.manager.loggerDict.values()):
        if not isinstance(logger, logging.Logger) or logger.propagate:
            continue
        if any(getattr(h.formatter, "_fmt", None) == _WECHATY_LOG_FORMAT for h in logger.handlers):
            logger.handlers = []
            logger.propagate = True
            logger.setLevel(level)


_route_wechaty_logs()

__all__ = [
    "MESSAGE_KINDS",
    "GRPCError",
    "PuppetOptions",
    "PuppetService",
    "StreamTerminatedError",
    "Wechaty",
    "WechatyOptions",
    "WechatyPuppetError",
    "message_kind",
    "timestamp_seconds",
    "wechaty_puppet",
]

# A 1.x puppet-service server puts the TypeScript puppet's MessageType value on the wire
# (wechaty-puppet 1.x `types.Message`), not the gRPC enum; Python's own mapping
# (`_map_message_type`) has no entry for Post (16) and raises IndexError, so we read the raw
# payload and map the value here.
MESSAGE_KINDS: dict[int, str] = {
    # The event contract's kinds (DESIGN.md): media keep their own, cards are links, the rest
    # "other"; a recall is no message (the adapter turns it into a recall of the message it names).
    0: "other",
    1: "file",
    2: "voice",
    3: "other",  # contact card
    4: "link",  # chat history
    5: "sticker",
    6: "image",
    7: "text",
    8: "other",  # location
    9: "link",  # mini program
    10: "group_note",
    11: "other",  # transfer
    12: "other",  # red envelope
    13: "recalled",
    14: "link",
    15: "video",
    16: "link",  # post
}


def message_kind(raw_type: int) -> str:
    return MESSAGE_KINDS.get(int(raw_type), "other")


def timestamp_seconds(raw: float | None) -> float | None:
    """Puppet timestamps come in seconds or milliseconds depending on the puppet; seconds out."""
    if not raw:
        return None
    value = float(raw)
    # 1e11 s is the year 5138; anything above is milliseconds.
    return value / 1000.0 if value > 1e11 else value
