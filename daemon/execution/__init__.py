"""Browser execution: the Playwright executor, the page's own feed, human demonstrations.

- ``browser.PlaywrightExecutor`` — clicks risk-approved orders on the venue page and
  confirms them from the feed (``confirm``), with ``controls``/``selectors`` for the UI,
  ``launch`` for Chromium and its profile, ``page_feed``/``frames`` for the page's
  websocket;
- ``human`` / ``buttons`` — human demonstrations recorded as ``ButtonEvent`` Parquet files.
"""
