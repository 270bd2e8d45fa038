"""The ad and spam guard (防广告): rules per room, warnings, removal, the blocklist, 申诉."""
