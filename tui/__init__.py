"""The Textual TUI (``rugsd tui``): a client of the daemon's control socket only.

It imports nothing from the daemon except ``rugsd.daemon.control.client`` and
``rugsd.daemon.control.protocol``; everything it shows comes from the snapshot stream.
"""
