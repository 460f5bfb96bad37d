"""Leaderboards from results files: aggregation with bootstrap intervals, and rendering."""
