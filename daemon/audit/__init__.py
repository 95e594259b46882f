"""Venue integrity: audit every game against its provably-fair commitment.

Rugs.fun publishes ``sha256(serverSeed)`` before a game and reveals the seed after it; the
seed and the game id determine every price up to the rug (``rugsd.daemon.game.engine``).
This package checks that the venue keeps that promise, for every game rugsd watched:

- ``observe`` — ``GameObserver``, the decision core's cheap hook: it keeps each game's
  feed updates and, when the seed is revealed, hands back an ``AuditRequest``;
  ``collect`` turns those updates into the prices the venue showed (``Observed``);
- ``check`` — ``audit_game``: recompute the game with the exact engine and compare
  (pure; runs in a worker thread in the daemon, inline offline);
- ``verdict`` — the core's side of a finished audit (``AuditVerdict`` input): journal it,
  count it, and HALT (or kill, or warn) on a mismatch;
- ``runner`` — ``Auditor``, the shell's worker thread;
- ``restore`` — a venue halt no operator lifted is restored at start-up;
- ``offline`` — ``rugsd audit`` over recordings, raw captures and a data dir's journal;
- ``fairness`` / ``stats`` / ``journal_facts`` — the house-edge meter (rug hazard,
  goodness of fit, sidebet hit rate, cost of holding a tick) shown by ``rugsd report``
  and ``rugsd audit``; ``render`` prints it and the audit for humans.
"""
