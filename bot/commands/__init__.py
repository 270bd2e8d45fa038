"""Chat commands: each feature module declares its commands; the registry joins them."""
