"""Member types: login days × speaking into core, lurker, burst and dormant."""
