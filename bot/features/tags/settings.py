"""The tags feature's sections of the config file: default rules ([[tag_rules]]) and groups
([[tag_groups]]), each checked when the file is read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.core.config import ConfigKey, Reader
from bot.core.errors import UsageError
from bot.features.tags.service import parse_rule_text


def _rules(r: Reader, value: object, data: Mapping[str, Any]) -> tuple[str, ...]:
    rules = []
    for i, t in enumerate(r.tables(value, "tag_rules", 'rule = "keyword 意向 多少钱,价格"'), 1):
        spec = r.text(t, "rule", f"tag_rules[{i}]")
        try:
            parse_rule_text(spec)
        except UsageError as exc:
            raise r.fail(f"tag_rules[{i}].rule", f"规则「{spec}」{exc}") from None
        rules.append(spec)
    return tuple(rules)


def _groups(r: Reader, value: object, data: Mapping[str, Any]) -> tuple[tuple[str, bool], ...]:
    groups = []
    for i, g in enumerate(r.tables(value, "tag_groups", 'name = "客户阶段" exclusive = true'), 1):
        exclusive = g.get("exclusive", False)
        if not isinstance(exclusive, bool):
            raise r.fail(f"tag_groups[{i}].exclusive", "应为 true 或 false")
        groups.append((r.text(g, "name", f"tag_groups[{i}]"), exclusive))
    return tuple(groups)


TAG_RULES = ConfigKey("tag_rules", _rules)  # each in `/rule add` argument form
TAG_GROUPS = ConfigKey("tag_groups", _groups)  # (name, exclusive)
