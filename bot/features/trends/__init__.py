"""Trends (趋势): how the community moves over 30 or 90 days, as server-drawn SVG charts with their
numbers as tables and CSV, and the weekly report DM'd to the admins."""
