"""Points: the ledger, levels, speaking points, 我的等级 and 排行."""
