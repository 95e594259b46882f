"""The local game simulator (``rugsd sim``): same protocol and payload shapes as Rugs.fun.

- ``schedule`` — deterministic game plans (seeds, ids, prices, rug prices) and step timing;
- ``room`` — the pure state machine: phases, ticks, accounts, orders (no clock, no I/O);
- ``desk`` / ``players`` / ``payloads`` / ``stats`` — wire shapes of acks, trades, player
  updates, ``gameStateUpdate`` and session statistics;
- ``server`` — ``SimServer``: python-socketio on aiohttp, real-time loop with ``speed``.

The order-matching rule it shares with the paper executor is ``rugsd.daemon.game.matching``.
"""

from rugsd.daemon.sim.room import Room
from rugsd.daemon.sim.server import SimServer, build_app

__all__ = ["Room", "SimServer", "build_app"]
