"""rugsd training package."""
