"""Models every feature app relies on."""
