"""The feed protocol: pydantic wire models, the never-raising ``EventParser`` and the
recorded-tick-line converter. Everything here turns outside data into the internal
events of ``rugsd.daemon.events``; nothing downstream sees a raw dict.
"""

from rugsd.daemon.protocol.parse import EventParser
from rugsd.daemon.protocol.recording import tick_line_to_update

__all__ = ["EventParser", "tick_line_to_update"]
