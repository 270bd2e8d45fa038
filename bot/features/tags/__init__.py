"""Tags: keyword and count rules, manual tags, and why each tag is there."""
