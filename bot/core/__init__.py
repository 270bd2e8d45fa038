"""Pure building blocks every chat command shares: errors and the option parser."""
