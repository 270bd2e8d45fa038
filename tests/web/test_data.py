"""The console's member rows (a page of ids, typed from the console's cached scope) agree with
the whole report computed from the store."""

from __future__ import annotations

from bot.core.feature import report_fields
from bot.core.report import member_rows, resolve_scope
from bot.features.points.service import Ledger
from bot.web.data import member_dicts, scope_view
from bot.wiring import FEATURES


def test_member_dicts_match_the_report(community):
    deps = community.deps
    with community.engine.connect() as conn:
        scope = resolve_scope(conn, community.settings, None, None, None)
        report = {r["id"]: r for r in member_rows(conn, scope, report_fields(FEATURES, deps))}
        view = scope_view(conn, community.settings, deps.service(Ledger).levels, scope.at, None)
        ours = {r["id"]: r for r in member_dicts(conn, view, view.lines,
                                                 report_fields(FEATURES, deps))}
    assert ours.keys() == report.keys()
    for member, row in report.items():
        mine = ours[member]
        for key in row:
            assert mine[key] == row[key], (member, key)
