"""rugsd strategy package."""
