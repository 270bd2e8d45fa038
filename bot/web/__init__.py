"""The web console for managers and the event API (aiohttp + jinja2), served next to the bot.

`bot.web.app.create_app(pipeline, deps, features)` builds the application from the services and the
features the wiring passes in (their routes and templates); `start_server(...)` starts it and
returns the running `web.AppRunner` (stop it with `cleanup()`).

    shell.py       Console state, app keys, responses, read/write in the pool (features import it)
    auth.py        signing sessions and CSRF tokens
    login.py       the login form and logout
    templating.py  the jinja2 environment: template folders, autoescaping, filters
    app.py         middlewares, security headers, static files, routes, start-up
    api.py         POST /api/events, GET /api/members
    pages/         cross-feature pages: overview, member list and CSV, one member
    data.py        reads for the member list and overview (scopes, cached)
    filters.py     the member list's query string
    templates/     base layout, login, error, macros, the cross-feature pages
    static/        app.css

This package's own module imports nothing: feature web modules import `bot.web.shell`, and
`bot.web.app` imports the pages, so importing the app here would make a cycle.
"""
