"""Exposure left from a game that ended unseen (a restart, a feed gap): settle it truly.

When the state machine tracks a game other than the one our position or sidebet belongs
to (``core.exposure_game``), that game ended without us seeing its rug. The venue
force-sold the position at that game's rug price and resolved the sidebet by its rug
tick; the feed reveals both in ``gameHistory`` (the last 10 games, sent with the first
event of each game and with the snapshot a new connection receives). So:

- that game is in a history we have seen → settle now, at its revealed rug price
  (``revealed``);
- no update with a history has arrived yet → wait, deciding nothing (the position of an
  ended game must neither be sold nor added to in another game); journaled once as
  ``orphan_pending``;
- an update carried a history without that game, or a further game began while we
  waited → settle conservatively: the position is worth 0, the sidebet lost
  (``unknown``).

Every settlement is journaled (fills, the position, a ``RiskEvent`` ``orphan_settled``
saying how), counted (``orphan_settled_<how>``), reported to the shell as a ``Notice``
(one log line) and kept in ``core.orphan_report`` for ``rugsd status``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rugsd.daemon.core.faults import Notice
from rugsd.daemon.events import GameUpdate
from rugsd.daemon.game import accounting
from rugsd.daemon.journal.records import RiskEvent
from rugsd.risk.reasons import ReasonCode

if TYPE_CHECKING:
    from rugsd.daemon.core.state import CoreState, StepOutput
    from rugsd.daemon.state.view import GameView

UNKNOWN_RUG_TICK = 1 << 30  # a sidebet of an unknown game counts as lost


@dataclass(frozen=True, slots=True)
class OrphanReport:
    """The latest orphan settlement (or the wait for one), for status and the TUI."""

    game_id: str
    how: str  # pending | revealed | unknown
    ts_ms: int
    detail: str
    realised: int = 0  # lamports realised by the settlement


def _exposed(core: CoreState) -> bool:
    return bool(core.account.qty) or core.account.sidebet is not None


def check_orphan(core: CoreState, ev: GameUpdate, view: GameView, out: StepOutput) -> bool:
    """Settle exposure of an ended game when its outcome is known; True while waiting."""
    game = core.exposure_game
    if game is None or view.game_id is None or view.game_id == game or not _exposed(core):
        core.orphan_wait = None
        return False
    finished = core.machine.finished_game(game)
    if finished is not None and finished.prices:
        _settle(core, game, len(finished.prices) - 1, finished.prices[-1], "revealed",
                ev.ts_ms, out)
        return False
    if ev.history or (core.orphan_wait is not None and view.game_id != core.orphan_wait):
        _settle(core, game, UNKNOWN_RUG_TICK, 0.0, "unknown", ev.ts_ms, out)
        return False
    if core.orphan_wait is None:
        core.orphan_wait = view.game_id
        acct = core.account
        detail = (f"exposure of ended game {game} (qty {acct.qty}, cost {acct.cost} lamports, "
                  f"sidebet {'open' if acct.sidebet else 'none'}): waiting for its "
                  f"outcome in the feed's gameHistory; no decisions meanwhile")
        core.stats["orphan_pending"] += 1
        core.orphan_report = OrphanReport(game, "pending", ev.ts_ms, detail)
        _journal(core, ReasonCode.ORPHAN_PENDING, ev.ts_ms, detail, out)
    return True


def _settle(core: CoreState, game_id: str, rug_tick: int, rug_price: float, how: str,
            ts_ms: int, out: StepOutput) -> None:
    before = core.account
    account, fills = accounting.settle_rug(before, rug_tick, rug_price)
    for fill in fills:
        core.fill_record(None, fill, game_id, ts_ms, out)
    core.set_account(account, ts_ms, out, price=rug_price)
    realised = account.realised - before.realised
    if how == "revealed":
        detail = (f"game {game_id}: position force-sold at its revealed rug price "
                  f"{rug_price:g} (tick {rug_tick}), sidebet resolved by the rug tick")
    else:
        detail = (f"game {game_id}: outcome not in the feed's history; position valued at 0, "
                  "sidebet lost")
    detail += f"; realised {accounting.lamports_to_sol(realised):+.9f} SOL"
    core.orphan_wait = None
    core.stats[f"orphan_settled_{how}"] += 1
    core.orphan_report = OrphanReport(game_id, how, ts_ms, detail, realised)
    _journal(core, ReasonCode.ORPHAN_SETTLED, ts_ms, detail, out)


def _journal(core: CoreState, reason: ReasonCode, ts_ms: int, detail: str,
             out: StepOutput) -> None:
    state = core.risk.trading_state.value
    out.records.append(RiskEvent(core.cfg.run_id, ts_ms, state, state, reason.value, detail))
    out.notices.append(Notice("orphan", reason.value, detail))
