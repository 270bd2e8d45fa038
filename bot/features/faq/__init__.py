"""FAQ answers (问答) and the 1:1 questions nobody answered."""
