"""Trading states and their automatic transitions (pure; time comes in as ``ts_ms``).

The shape follows NautilusTrader's RiskEngine (ACTIVE / REDUCING / HALTED) plus a latched
KILLED state. The visible ``TradingState`` is *derived* from separate "why" flags, so
that one cause clearing (fresh ticks after a stale feed) never undoes another (an
operator pause, a kill):

    killed                              -> KILLED   (latched; only ``arm`` clears it)
    operator_paused or feed_stale
      or venue_halted                   -> HALTED   (a pause or a venue halt alone still
                                                     lets exits out)
    reduce_only or exec_degraded        -> REDUCING
    otherwise                           -> ACTIVE

Every transition method returns ``(new_state, change)`` where ``change`` is a
``StateChange`` record for the journal when any flag changed (``old`` may equal ``new``
when only a cause changed, e.g. a pause while the feed is already stale), else ``None``.

Decisions worth knowing:

- A fresh ``RiskState()`` has ``feed_stale=True`` ("no feed yet"): HALTED until the
  first feed event arrives (``on_feed_event``).
- ``exec_degraded`` (>= ``max_execution_errors`` consecutive errors) stays until an
  operator ``resume``; a later successful order only resets the consecutive count.
- ``flatten`` clears an operator pause (the operator asked to get out) and sets
  ``reduce_only`` + ``flatten_pending``; ``on_position`` reports FLATTEN_DONE once the
  position is flat; the state stays REDUCING until ``resume``.
- ``venue_halted`` (an audited game broke its provably-fair commitment) stays until an
  operator ``resume`` (or ``flatten``, which lifts a halt to let exits through).
- ``resume`` clears pause, the venue halt, reduce-only, pending flatten and the
  execution-error latch, never ``killed``. ``arm`` clears ``killed`` only (the persisted latch is cleared by
  ``rugsd.risk.killswitch.arm``). Loss figures are not reset by ``arm``: if a loss limit is
  still breached, the next ``check_losses`` kills again.
- When a transition *enters* KILLED, the shell must persist the latch
  (``rugsd.risk.killswitch.trip``) before sending anything else.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING

from rugsd.daemon.fastinit import fast_init
from rugsd.risk.reasons import ReasonCode

if TYPE_CHECKING:
    from rugsd.risk.values import RiskLimits, SessionFigures


class TradingState(StrEnum):
    """What the gate lets through."""

    ACTIVE = "active"  # normal
    REDUCING = "reducing"  # exits (sells) only
    HALTED = "halted"  # nothing
    KILLED = "killed"  # the flattening sell (100 %) only, then nothing; latched


@dataclass(frozen=True, slots=True)
class StateChange:
    """One journal record: a flag of the risk state changed."""

    old: TradingState
    new: TradingState
    reason: ReasonCode
    ts_ms: int
    detail: str = ""


Transition = tuple["RiskState", "StateChange | None"]


@fast_init
@dataclass(frozen=True, slots=True)
class RiskState:
    """The risk shell's state: independent causes, one derived ``trading_state``."""

    killed: bool = False
    kill_reason: ReasonCode | None = None
    operator_paused: bool = False
    feed_stale: bool = True  # no feed event seen yet
    exec_errors: int = 0  # consecutive execution errors
    exec_degraded: bool = False  # exec_errors reached the limit; cleared by resume
    reduce_only: bool = False
    flatten_pending: bool = False  # sell everything, then stay REDUCING
    last_event_ms: int | None = None
    venue_halted: bool = False  # venue integrity: an audited game broke its commitment

    @property
    def trading_state(self) -> TradingState:
        """The state the gate enforces, derived from the flags (see module doc)."""
        if self.killed:
            return TradingState.KILLED
        if self.operator_paused or self.feed_stale or self.venue_halted:
            return TradingState.HALTED
        if self.reduce_only or self.exec_degraded:
            return TradingState.REDUCING
        return TradingState.ACTIVE

    @property
    def wants_flatten(self) -> bool:
        """True while the position must be sold (killed, or an operator flatten pending)."""
        return self.killed or self.flatten_pending

    def _flags(self) -> tuple:
        return (
            self.killed,
            self.operator_paused,
            self.feed_stale,
            self.exec_degraded,
            self.reduce_only,
            self.flatten_pending,
            self.venue_halted,
        )

    def _to(self, new: RiskState, reason: ReasonCode, ts_ms: int, detail: str) -> Transition:
        if new._flags() == self._flags():
            return new, None
        return new, StateChange(self.trading_state, new.trading_state, reason, ts_ms, detail)

    # --- feed ------------------------------------------------------------------------------
    def on_feed_event(self, ts_ms: int) -> Transition:
        """A feed event arrived at ``ts_ms``: the feed is fresh (HALTED lifts if stale)."""
        if not self.feed_stale:  # the common case: only the timestamp moves, no flag
            # every field, positionally (``replace`` costs ~2 µs on each feed refresh);
            # tests/risk prove it equal to ``replace`` for any state
            return RiskState(self.killed, self.kill_reason, self.operator_paused, False,
                             self.exec_errors, self.exec_degraded, self.reduce_only,
                             self.flatten_pending, ts_ms, self.venue_halted), None
        new = replace(self, feed_stale=False, last_event_ms=ts_ms)
        return self._to(new, ReasonCode.FEED_RECOVERED, ts_ms, "feed event received")

    def check_feed(self, now_ms: int, stale_after_ms: int) -> Transition:
        """Called by the shell's timer: no event for more than ``stale_after_ms`` -> HALTED."""
        if self.feed_stale or self.last_event_ms is None:
            return self, None
        silent = now_ms - self.last_event_ms
        if silent <= stale_after_ms:
            return self, None
        new = replace(self, feed_stale=True)
        return self._to(new, ReasonCode.FEED_STALE, now_ms, f"no feed event for {silent} ms")

    # --- execution ---------------------------------------------------------------------
    def on_execution_error(self, ts_ms: int, max_errors: int, detail: str = "") -> Transition:
        """An order failed at the executor; ``max_errors`` in a row -> REDUCING."""
        count = self.exec_errors + 1
        degraded = self.exec_degraded or count >= max_errors
        new = replace(self, exec_errors=count, exec_degraded=degraded)
        note = f"{count} consecutive execution errors" + (f": {detail}" if detail else "")
        return self._to(new, ReasonCode.EXECUTION_ERRORS, ts_ms, note)

    def on_execution_ok(self, ts_ms: int) -> Transition:
        """An order was acknowledged: the consecutive count restarts (the latch stays)."""
        return replace(self, exec_errors=0), None

    # --- operator ----------------------------------------------------------------------
    def pause(self, ts_ms: int, detail: str = "") -> Transition:
        """Operator pause: HALTED until ``resume`` (fresh ticks do not lift it). A pause
        blocks entries only: the gate lets exits through (``rugsd.risk.rules``)."""
        new = replace(self, operator_paused=True)
        return self._to(new, ReasonCode.OPERATOR_PAUSE, ts_ms, detail)

    def resume(self, ts_ms: int, detail: str = "") -> Transition:
        """Operator resume: clears pause, venue halt, reduce-only, pending flatten, errors."""
        new = replace(
            self,
            operator_paused=False,
            venue_halted=False,
            reduce_only=False,
            flatten_pending=False,
            exec_degraded=False,
            exec_errors=0,
        )
        return self._to(new, ReasonCode.OPERATOR_RESUME, ts_ms, detail)

    def flatten(self, ts_ms: int, detail: str = "") -> Transition:
        """Operator flatten: sell everything, then stay REDUCING (lifts a pause or venue halt)."""
        new = replace(self, operator_paused=False, venue_halted=False, reduce_only=True,
                      flatten_pending=True)
        return self._to(new, ReasonCode.OPERATOR_FLATTEN, ts_ms, detail)

    def on_position(self, qty: int, ts_ms: int) -> Transition:
        """Report the position after fills: a pending flatten completes when flat."""
        if not self.flatten_pending or qty > 0:
            return self, None
        return self._to(replace(self, flatten_pending=False), ReasonCode.FLATTEN_DONE, ts_ms, "")

    def kill(self, ts_ms: int, reason: ReasonCode = ReasonCode.OPERATOR_KILL,
             detail: str = "") -> Transition:
        """Enter KILLED (idempotent: the first reason is kept)."""
        if self.killed:
            return self, None
        new = replace(self, killed=True, kill_reason=reason)
        return self._to(new, reason, ts_ms, detail)

    def restore_kill(self, ts_ms: int, detail: str = "") -> Transition:
        """At start, a kill latch was found on disk: start KILLED."""
        return self.kill(ts_ms, ReasonCode.KILL_LATCH_RESTORED, detail)

    def arm(self, ts_ms: int, detail: str = "") -> Transition:
        """Operator arm: leave KILLED (the caller has already cleared the latch file)."""
        new = replace(self, killed=False, kill_reason=None)
        return self._to(new, ReasonCode.OPERATOR_ARM, ts_ms, detail)

    # --- venue ----------------------------------------------------------------------------
    def venue_integrity(self, ts_ms: int, detail: str = "") -> Transition:
        """An audited game broke its provably-fair commitment: HALTED until ``resume``."""
        new = replace(self, venue_halted=True)
        return self._to(new, ReasonCode.VENUE_INTEGRITY, ts_ms, detail)

    # --- money ---------------------------------------------------------------------------
    def check_losses(self, figures: SessionFigures, limits: RiskLimits, ts_ms: int) -> Transition:
        """Daily loss or drawdown from the session peak beyond its limit -> KILLED."""
        if self.killed:
            return self, None
        if figures.daily_loss > limits.max_daily_loss:
            return self.kill(ts_ms, ReasonCode.DAILY_LOSS_LIMIT,
                             f"daily loss {figures.daily_loss} > {limits.max_daily_loss} lamports")
        if figures.drawdown > limits.max_drawdown:
            return self.kill(ts_ms, ReasonCode.DRAWDOWN_LIMIT,
                             f"drawdown {figures.drawdown} > {limits.max_drawdown} lamports")
        return self, None
