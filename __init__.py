"""rugsd — a live trading daemon with a safety shell for Rugs.fun.

The project keeps the design card's top-level folders (``daemon/``, ``strategy/``,
``risk/``, ``training/``, ``tui/``); ``pyproject.toml`` maps them under this one import
name (``rugsd.daemon``, ``rugsd.risk``, …) with setuptools ``package-dir``. This file is
the ``rugsd`` package itself; the default ``config.toml`` and the default model bundle
beside it ship as its package data.
"""

__version__ = "0.1.0"
