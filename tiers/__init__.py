"""Pure tier logic: member types, check-ins and streaks, levels, anti-farming and rankings."""
