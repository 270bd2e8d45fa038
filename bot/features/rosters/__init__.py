"""Rosters: who is in each room, welcomes for newcomers, the 6-hourly roster refresh."""
