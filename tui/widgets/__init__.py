"""TUI widgets: one small widget per module, each a pure view of a ``Snapshot``."""
