"""rugsd daemon package."""
