"""The audit log's views: /audit in chat, the console's audit page and its CSV (recording is
`bot.core.audit`)."""
