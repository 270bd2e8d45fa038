"""The console's reads agree with the services they stand in for (the report)."""

from __future__ import annotations

from bot.core.report import member_rows, resolve_scope
from bot.features.segments.report import assess_scope
from bot.web.data import member_dicts, scope_view
from bot.wiring import report_fields


def test_member_dicts_match_the_report(community):
    deps = community.deps
    with community.engine.connect() as conn:
        scope = resolve_scope(conn, community.settings, None, None, None)
        report = {r["id"]: r for r in member_rows(conn, scope, report_fields(deps))}
        view = scope_view(conn, community.settings, deps.ledger.levels, scope.at, None)
        playbook = assess_scope(conn, deps, scope.at, None)
        ours = {r["id"]: r for r in member_dicts(conn, view.lines, scope.at, deps.tagging.current(conn).rules,
                                                 playbook, deps.playbook.rfm.window_days)}
    assert ours.keys() == report.keys()
    for member, row in report.items():
        mine = ours[member]
        for key in row:
            assert mine[key] == row[key], (member, key)
