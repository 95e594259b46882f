"""The game itself: rules, the provably-fair price engine, money arithmetic."""
