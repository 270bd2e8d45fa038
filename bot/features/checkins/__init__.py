"""Check-ins (打卡): tasks, streaks, make-up cards."""
