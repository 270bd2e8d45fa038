"""The web console for managers and the event API (aiohttp), served next to the bot.

`create_app(pipeline, deps)` builds the application; `start_server(pipeline, deps, host=...,
port=...)` starts it and returns the running `web.AppRunner` (stop it with `cleanup()`).
"""

from bot.web.app import address, create_app, start_server

__all__ = ["address", "create_app", "start_server"]
