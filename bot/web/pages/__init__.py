"""The console's cross-feature pages: the overview, the member list (and its CSV) and one
member's page. Each feature contributes what it owns (its services' reads, its partials)."""
