"""Referrals (转介绍): who brought whom into a room, and the points for a referral who stays."""
