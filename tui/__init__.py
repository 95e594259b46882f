"""The Textual TUI (``rugsd tui``): a client of the daemon's control socket only.

It imports nothing from the daemon except ``daemon.control.client`` and
``daemon.control.protocol``; everything it shows comes from the snapshot stream.
"""
