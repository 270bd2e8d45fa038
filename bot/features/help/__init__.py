"""帮助: the command list, generated from the registry."""
