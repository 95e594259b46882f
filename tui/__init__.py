"""rugsd tui package."""
