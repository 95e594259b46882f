"""``DecisionCore``: (state, event) → (new state, orders + journal records).

Synchronous and deterministic: no clock reads (time is each input's ``ts_ms``), no I/O,
no randomness. The shell feeds it feed events, operator inputs, timer ticks and executor
reports, then journals the records and sends the orders. Replaying the same inputs gives
the same records byte for byte (the decision log).

Per game update the core: (1) marks the feed fresh and keeps the update for the venue
audit (``rugsd.daemon.audit``: a revealed seed yields an audit request in
``StepOutput.audits``; its ``AuditVerdict`` comes back as an input), (2) advances the
game-state machine,
(3) settles each new tick through the venue rule (paper mode: ``PaperVenue``; external
executors report fills back as ``ExecReport``), (4) marks equity and checks the loss
limits, (5) on every new live tick (and every presale update) asks the strategy — or the
risk shell's flattening sell while killed/flattening — for an intent, passes it through
the risk gate and records the decision.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from rugsd.daemon.audit.model import AuditVerdict
from rugsd.daemon.audit.observe import GameObserver
from rugsd.daemon.audit.verdict import AuditBook, on_audit_verdict
from rugsd.daemon.core.faults import (
    Notice,
    describe_error,
    on_fault,
    on_fault_cleared,
    on_step_error,
)
from rugsd.daemon.core.handlers import on_exec_report, on_operator
from rugsd.daemon.core.inputs import (
    ClockTick,
    ExecReport,
    Fault,
    FaultCleared,
    OperatorInput,
    ReleaseOrder,
    VenueAccount,
)
from rugsd.daemon.core.orphan import OrphanReport, check_orphan
from rugsd.daemon.core.paper import PaperVenue
from rugsd.daemon.core.settle import order_outcome, settle
from rugsd.daemon.core.state import StepOutput
from rugsd.daemon.events import GameUpdate, Phase
from rugsd.daemon.fastinit import fast_init
from rugsd.daemon.game import accounting
from rugsd.daemon.game.accounting import Account, Fill, FillKind, Sidebet
from rugsd.daemon.game.matching import PendingOrder
from rugsd.daemon.game.rules import TICK_MS
from rugsd.daemon.journal.records import (
    DecisionRecord,
    FillRecord,
    GameRecord,
    KillEvent,
    OrderRecord,
    OrderStatus,
    PositionSnapshot,
    RiskEvent,
    TickRecord,
    Verdict,
    features_hash,
)
from rugsd.daemon.state.machine import GameStateMachine
from rugsd.daemon.state.plausibility import DEFAULT_LIMITS, PriceLimits, check_update
from rugsd.daemon.state.transitions import (
    Anomaly,
    GameFinished,
    HistoryRevealed,
    NewGame,
    Rugged,
    TickAdvanced,
)
from rugsd.daemon.state.view import GameView
from rugsd.risk.context import DAY_MS, GameCounters, GateContext, RiskLimits, SessionFigures
from rugsd.risk.gate import check, flatten_intent
from rugsd.risk.ratelimit import RateWindow
from rugsd.risk.reasons import ReasonCode
from rugsd.risk.states import RiskState, StateChange, TradingState
from rugsd.risk.verdicts import Order, Refusal
from rugsd.strategy.base import ModelOutputs, Strategy
from rugsd.strategy.features import Commitments, FeatureBuilder
from rugsd.strategy.intents import WAIT, Action, Intent

FEED_REFRESH_MS = 100  # how often (event time) a fresh feed's timestamp is refreshed
# enum member -> its string (``.value`` is a Python-level property: ~0.3 µs a read; the
# records below read four per decision). StrEnum members with equal strings share a key.
_VALUE: dict[str, str] = {m: m.value for e in (Phase, Action, Verdict, TradingState) for m in e}
_ACTIVE, _RUGGED = Phase.ACTIVE.value, Phase.RUGGED.value


@dataclass(frozen=True, slots=True)
class CoreSettings:
    """Fixed parameters of one core.

    ``run_id`` names the run in the journal; ``order_prefix`` starts every order id and
    stays the same across restarts of one venue account, so a re-decided order after a
    crash collides with the journaled one instead of being sent twice.
    ``paper_latency_ms`` None means an external executor reports fills (browser mode).
    ``hold_orders`` (the daemon): a paper order waits for ``ReleaseOrder`` — sent by the
    shell once the order's intent is durable in the journal — before the paper venue
    takes it, so paper money never moves ahead of its record. Replays and backtests
    release at once (the default); ``tests/daemon/core`` proves both give one record
    stream. ``plausibility``: feed values outside the game's rules are dropped.
    """

    run_id: str
    limits: RiskLimits
    order_prefix: str = "paper"
    paper_latency_ms: int | None = 0
    stale_after_ms: int = 2000
    keep_features: bool = True
    on_mismatch: str = "halt"  # venue integrity: halt | kill | warn (rugsd.daemon.audit)
    hold_orders: bool = False
    plausibility: PriceLimits = DEFAULT_LIMITS


@fast_init
@dataclass(frozen=True, slots=True)
class LastDecision:
    """The latest decision, for snapshots and the TUI. ``outputs`` are the models'
    outputs of THIS decision (None when the models did not run: a flatten, a rule)."""

    ts_ms: int
    game_id: str
    tick: int
    intent: Intent
    verdict: str
    reason: str
    order_id: str | None
    outputs: ModelOutputs | None = None


class DecisionCore:
    """The one decision core shared by live, paper, replay, backtest and the gym env."""

    def __init__(
        self,
        strategy: Strategy,
        cfg: CoreSettings,
        account: Account,
        risk: RiskState | None = None,
        figures: SessionFigures | None = None,
        order_seq: int = 0,
        exposure_game: str | None = None,
    ) -> None:
        self.cfg = cfg
        self.account = account
        self.risk = risk if risk is not None else RiskState()
        self.figures = figures
        self.order_seq = order_seq
        # the game our position / sidebet belongs to: if a different game is running and
        # we still hold it, that game's rug was missed (restart, feed gap) — see
        # ``core/orphan.py``
        self.exposure_game = exposure_game
        self.machine = GameStateMachine()
        self.strategy = strategy  # also sets the feature builder
        self.paper = PaperVenue(cfg.paper_latency_ms) if cfg.paper_latency_ms is not None else None
        self.counters = GameCounters()
        self.rate = RateWindow()
        self.open_orders: dict[str, Order] = {}
        self.held: dict[str, Order] = {}  # paper orders waiting for ReleaseOrder
        self.journal_down = False  # a journal write failed: no new order until it works
        # exposure of an ended game waiting for its outcome (see ``core/orphan.py``)
        self.orphan_wait: str | None = None
        self.orphan_report: OrphanReport | None = None
        # the last sidebet settled (expired, won, or dropped by the venue): an executor's
        # account snapshot still showing it predates the settlement (``handlers.py``)
        self.settled_sidebet: Sidebet | None = None
        self.decision_seq = 0
        self.last_outputs: ModelOutputs | None = None
        self.last_decision: LastDecision | None = None
        self.markers: list[tuple[str, int, float, str]] = []  # (game_id, tick, price, kind)
        self.stats: Counter[str] = Counter()
        # venue integrity: keeps each game's updates until its seed is revealed
        self.audit = GameObserver()
        self.audit_book = AuditBook()
        # deferred decisions: the gymnasium env shows the agent the features before the
        # core asks the strategy (see ``defer_decisions`` / ``complete_decision``)
        self.defer_decisions = False
        self._presale_slot: tuple[str | None, int] | None = None
        self.pending_decision: tuple[GameView, int, StepOutput] | None = None

    # -- entry point ---------------------------------------------------------------------

    def step(self, event: object) -> StepOutput:
        """Apply one input; return what the shell must journal and send.

        Never raises: an exception inside the step keeps the records made before it and
        turns KILLED (``core/faults.py``).
        """
        out = StepOutput()
        try:
            if isinstance(event, GameUpdate):
                self._on_update(event, out)
            elif isinstance(event, ClockTick):
                self.risk_to(self.risk.check_feed(event.ts_ms, self.cfg.stale_after_ms), out)
            elif isinstance(event, OperatorInput):
                on_operator(self, event, out)
            elif isinstance(event, ExecReport):
                on_exec_report(self, event, out)
            elif isinstance(event, VenueAccount):
                self.set_account(event.account, event.ts_ms, out)
            elif isinstance(event, ReleaseOrder):
                self._release(event, out)
            elif isinstance(event, Fault):
                on_fault(self, event, out)
            elif isinstance(event, FaultCleared):
                on_fault_cleared(self, event, out)
            elif isinstance(event, AuditVerdict):
                on_audit_verdict(self, event, out)
            else:
                self.stats["ignored_inputs"] += 1  # trades/sidebets of others, player updates
        except Exception as err:  # noqa: BLE001 - contained: KILLED, journaled, counted
            on_step_error(self, event, err, out)
        return out

    @property
    def strategy(self) -> Strategy:
        """The strategy deciding now (swappable between games: model reload)."""
        return self._strategy

    @strategy.setter
    def strategy(self, strategy: Strategy) -> None:
        self._strategy = strategy
        # ONNX strategies expose their models' input row: features are written straight
        # into it, saving a copy per tick
        row = getattr(strategy, "obs_row", None)
        self.builder = FeatureBuilder(row if isinstance(row, np.ndarray) else None,
                                      self.cfg.limits)

    @property
    def view(self) -> GameView:
        """The current game view."""
        return self.machine.view

    @property
    def trading_state(self) -> TradingState:
        """The state the gate enforces now."""
        return self.risk.trading_state

    # -- game updates ----------------------------------------------------------------------

    def _on_update(self, ev: GameUpdate, out: StepOutput) -> None:
        rejected = check_update(ev, self.machine.view, self.cfg.plausibility, self.exposure_game)
        if rejected is not None:  # bad input: counted and logged, nothing else changes
            self.stats[f"implausible_{rejected.reason.value}"] += 1
            out.notices.append(Notice("implausible", rejected.reason.value, rejected.detail))
            return
        risk = self.risk
        # a fresh feed only needs its timestamp refreshed now and then (staleness is
        # measured in seconds); skipping the copy on most events keeps the loop fast
        if risk.feed_stale or ev.ts_ms - (risk.last_event_ms or 0) >= FEED_REFRESH_MS:
            self.risk_to(risk.on_feed_event(ev.ts_ms), out)
        requests = self.audit.observe(ev)
        if requests:
            out.audits.extend(requests)
        transitions = self.machine.apply(ev)
        view = self.machine.view
        decide = False
        if view.phase == Phase.PRESALE:
            # presale updates come every 100 ms; decide at the game's own cadence, once per
            # 250 ms of countdown (the presale price is fixed: only the time left moves)
            slot = (view.game_id, view.cooldown_ms // TICK_MS)
            decide = slot != self._presale_slot
            self._presale_slot = slot
        for tr in transitions:
            if isinstance(tr, TickAdvanced):
                self.stats["ticks"] += 1
                out.records.append(
                    TickRecord(
                        self.cfg.run_id,
                        ev.ts_ms,
                        view.game_id or "",
                        tr.tick,
                        tr.price,
                        _ACTIVE,
                    )
                )
                if self._owns_exposure(view.game_id):
                    settle(self, view, tr.tick, tr.price, False, ev.ts_ms, out)
                decide = decide or tr.tick == view.tick
            elif isinstance(tr, Rugged):
                out.records.append(
                    TickRecord(
                        self.cfg.run_id,
                        ev.ts_ms,
                        tr.game_id,
                        tr.rug_tick,
                        tr.rug_price,
                        _RUGGED,
                    )
                )
                if self._owns_exposure(tr.game_id):  # a rug settles only its own game
                    settle(self, view, tr.rug_tick, tr.rug_price, True, ev.ts_ms, out)
                decide = False
            elif isinstance(tr, NewGame):
                self._on_new_game(ev.ts_ms, out)
            elif isinstance(tr, GameFinished):
                s = tr.summary
                out.records.append(
                    GameRecord(self.cfg.run_id, s.game_id, s.rug_tick, s.peak, None, ev.ts_ms)
                )
            elif isinstance(tr, HistoryRevealed):
                g = tr.game
                self.stats["seeds_revealed"] += 1
                if g.server_seed and g.prices:
                    out.records.append(
                        GameRecord(
                            self.cfg.run_id,
                            g.game_id,
                            len(g.prices) - 1,
                            g.peak,
                            g.server_seed,
                            ev.ts_ms,
                        )
                    )
            elif isinstance(tr, Anomaly):
                self.stats[f"anomaly_{tr.kind}"] += 1
        if check_orphan(self, ev, view, out):
            return  # exposure of an ended game: no mark, no decision until it is settled
        self._mark(view, ev.ts_ms, out)
        if decide and view.game_id is not None:
            if self.defer_decisions:
                self.pending_decision = (view, ev.ts_ms, out)
            else:
                self._decide(view, ev.ts_ms, out)

    def complete_decision(self) -> StepOutput:
        """Run the decision ``step`` deferred (``defer_decisions``): strategy → gate → order.

        Returns the same ``StepOutput`` the deferring step returned, now with the
        decision's records and orders appended.
        """
        if self.pending_decision is None:
            raise RuntimeError("no decision pending")
        view, ts_ms, out = self.pending_decision
        self.pending_decision = None
        try:
            self._decide(view, ts_ms, out)
        except Exception as err:  # noqa: BLE001 - contained like a step
            on_step_error(self, view, err, out)
        return out

    def _owns_exposure(self, game_id: str | None) -> bool:
        """True unless our position / sidebet belongs to another game than ``game_id``
        (then that game's ticks and rug must not settle it: ``core/orphan.py`` does)."""
        if self.exposure_game is None or self.exposure_game == game_id:
            return True
        return not self.account.qty and self.account.sidebet is None

    def _on_new_game(self, ts_ms: int, out: StepOutput) -> None:
        # orders of the previous game can no longer fill (the rug refused them already;
        # this covers a game that ended without its rug being seen)
        if self.paper is not None:
            for pending in self.paper.drop_all():
                self.close_order(pending.order_id, OrderStatus.REJECTED, "game ended", ts_ms, out)
        self.markers = [m for m in self.markers if m[0] == self.view.game_id]

    def fill_record(
        self, order_id: str | None, fill: Fill, game_id: str, ts_ms: int, out: StepOutput
    ) -> None:
        self.stats["fills"] += 1
        if fill.kind in (FillKind.BUY, FillKind.SIDEBET_PLACE):
            self.exposure_game = game_id
        out.records.append(
            FillRecord(
                order_id,
                self.cfg.run_id,
                ts_ms,
                game_id,
                fill.tick,
                fill.kind.value,
                fill.price,
                fill.qty,
                fill.amount,
                fill.realised,
                fill.balance_after,
            )
        )
        if fill.kind.value in ("buy", "sell", "rug_sell", "sidebet_place"):
            kind = "sidebet" if fill.kind.value == "sidebet_place" else fill.kind.value
            self.markers.append((game_id, fill.tick, fill.price, kind))
            del self.markers[:-100]

    def close_order(
        self, order_id: str, status: OrderStatus, detail: str, ts_ms: int, out: StepOutput
    ) -> None:
        order = self.open_orders.pop(order_id, None)
        if order is None:
            return
        out.records.append(self._order_record(order, status, detail, ts_ms))

    def _order_record(
        self, order: Order, status: OrderStatus, detail: str, ts_ms: int
    ) -> OrderRecord:
        return OrderRecord(
            order.order_id, self.cfg.run_id, ts_ms, order.game_id, order.tick,
            order.action.value, order.amount, order.percentage, status.value, detail,
        )

    def set_account(
        self,
        account: Account,
        ts_ms: int,
        out: StepOutput,
        tick: int | None = None,
        price: float | None = None,
    ) -> None:
        if account.sidebet is None and self.account.sidebet is not None:
            self.settled_sidebet = self.account.sidebet
        self.account = account
        view = self.machine.view
        out.records.append(
            PositionSnapshot.of(
                account,
                run_id=self.cfg.run_id,
                ts_ms=ts_ms,
                game_id=view.game_id or "",
                tick=view.tick if tick is None else tick,
                mark_price=view.price if price is None else price,
            )
        )
        self.risk_to(self.risk.on_position(account.qty, ts_ms), out)

    def _mark(self, view: GameView, ts_ms: int, out: StepOutput) -> None:
        """Mark equity at the current price; the loss limits may kill."""
        equity = accounting.equity(self.account, view.price)
        figures = self.figures
        if figures is None:
            self.figures = SessionFigures.start(equity, ts_ms)
        elif equity != figures.equity or ts_ms // DAY_MS != figures.day:
            self.figures = figures.observe(equity, ts_ms)
        else:
            return  # nothing changed: the limits cannot newly trip
        self.risk_to(self.risk.check_losses(self.figures, self.cfg.limits, ts_ms), out)

    # -- deciding ------------------------------------------------------------------------

    def game_counters(self, game_id: str | None) -> GameCounters:
        """This game's counters (fresh ones, kept, once another game runs)."""
        counters = self.counters = self.counters.for_game(game_id)
        return counters

    def commitments(self, view: GameView, ts_ms: int) -> Commitments:
        """What the policy must know beyond the account: orders in flight (they count as
        position), the rate window, this game's sidebets, the loss limits' references."""
        buy = side = 0
        for order in self.open_orders.values():
            if order.action is Action.BUY:
                buy += order.amount
            elif order.action is Action.SIDEBET:
                side += order.amount
        fig = self.figures
        return Commitments(
            pending_buy=buy,
            pending_sidebet=side,
            pending_orders=len(self.open_orders),
            orders_last_minute=self.rate.count(ts_ms) if self.rate.times else 0,
            sidebets_this_game=self.game_counters(view.game_id).sidebets,
            day_start_equity=None if fig is None else fig.day_start_equity,
            peak_equity=None if fig is None else fig.peak_equity,
        )

    def _decide(self, view: GameView, ts_ms: int, out: StepOutput) -> None:
        intent = flatten_intent(self.risk, self.account)
        outputs: ModelOutputs | None = None
        feats: np.ndarray | None = None
        strategy_error = False
        if intent is None:
            feats = self.builder.build(view, self.account, self.commitments(view, ts_ms))
            try:
                decision = self.strategy.decide(view, self.account, feats)
                intent, outputs = decision.intent, decision.outputs
                if not isinstance(intent, Intent):
                    raise TypeError(f"strategy returned {type(intent).__name__}, not Intent")
            except Exception as err:  # noqa: BLE001 - a strategy failure holds this decision
                intent, outputs, strategy_error = WAIT, None, True
                self.stats["strategy_errors"] += 1
                out.notices.append(Notice("strategy_error", ReasonCode.STRATEGY_ERROR.value,
                                          describe_error(err)))
            if outputs is not None:
                self.last_outputs = outputs
                if outputs.held_non_finite:
                    self.stats["held_non_finite"] += 1
        if intent.action is Action.WAIT:
            verdict = None  # nothing to judge (the gate answers None too); skip the context
        else:
            ctx = GateContext(
                state=self.risk,
                limits=self.cfg.limits,
                account=self.account,
                view=view,
                figures=self.figures or SessionFigures.start(0, ts_ms),
                ts_ms=ts_ms,
                counters=self.game_counters(view.game_id),
                orders=self.rate,
                run_id=self.cfg.order_prefix,
                order_seq=self.order_seq,
                pending=len(self.open_orders),
            )
            verdict = check(intent, ctx)
            if isinstance(verdict, Order) and self.journal_down:
                verdict = Refusal(intent, ReasonCode.JOURNAL_WRITE_FAILED,
                                  "the journal cannot take the order's record", ts_ms)
        order_id: str | None = None
        reason = ""
        if isinstance(verdict, Order):
            after = ctx.after(verdict)
            self.counters, self.rate, self.order_seq = after.counters, after.orders, after.order_seq
            order_id = verdict.order_id
            kind = Verdict.ORDER
        elif isinstance(verdict, Refusal):
            kind, reason = Verdict.REFUSED, verdict.reason.value
            self.stats[f"refused_{reason}"] += 1
        else:
            kind = Verdict.NONE
            if strategy_error:
                reason = ReasonCode.STRATEGY_ERROR.value
        self.decision_seq += 1
        self.stats["decisions"] += 1
        raw = feats.tobytes() if feats is not None else None
        verdict_value = _VALUE[kind]
        out.records.append(
            DecisionRecord(
                run_id=self.cfg.run_id,
                seq=self.decision_seq,
                ts_ms=ts_ms,
                game_id=view.game_id or "",
                tick=view.tick,
                phase=_VALUE[view.phase],
                price=view.price,
                features_hash=features_hash(raw),
                features=raw if self.cfg.keep_features else None,
                action_probs=outputs.action_probs if outputs else None,
                p_rug=outputs.p_rug if outputs else None,
                intent_action=_VALUE[intent.action],
                intent_amount=intent.amount,
                intent_percentage=intent.percentage,
                verdict=verdict_value,
                reason=reason,
                order_id=order_id,
                trading_state=_VALUE[self.risk.trading_state],
            )
        )
        self.last_decision = LastDecision(
            ts_ms, view.game_id or "", view.tick, intent, verdict_value, reason, order_id, outputs
        )
        if isinstance(verdict, Order):
            self._send(verdict, view, ts_ms, out)

    def _send(self, order: Order, view: GameView, ts_ms: int, out: StepOutput) -> None:
        self.stats["orders"] += 1
        self.open_orders[order.order_id] = order
        out.records.append(self._order_record(order, OrderStatus.SENT, order.source, ts_ms))
        out.orders.append(order)
        if self.paper is not None:
            if self.cfg.hold_orders:
                self.held[order.order_id] = order
            else:
                self._submit_paper(order, view, out)

    def _release(self, release: ReleaseOrder, out: StepOutput) -> None:
        """The shell journaled the order's intent: hand it to the paper venue now (at the
        time it was decided, so the records equal those of an unheld order)."""
        order = self.held.pop(release.order_id, None)
        if order is not None and self.paper is not None:
            self._submit_paper(order, self.machine.view, out)

    def _submit_paper(self, order: Order, view: GameView, out: StepOutput) -> None:
        ts_ms = order.ts_ms
        account, outcome = self.paper.submit(self.account, order, view.phase, ts_ms)
        if outcome is not None:
            pending = PendingOrder(
                order.order_id, order.action.value, order.amount, order.percentage, None
            )
            if order_outcome(self, pending, outcome, view.game_id or "", ts_ms, out):
                self.set_account(account, ts_ms, out, price=view.price)

    # -- operator and executor -------------------------------------------------------------

    def risk_to(
        self,
        transition: tuple[RiskState, StateChange | None],
        out: StepOutput,
        kill_source: str = "auto",
        kill_reason: str | None = None,
    ) -> None:
        new, change = transition
        self.risk = new
        if change is None:
            return
        out.records.append(
            RiskEvent(
                self.cfg.run_id,
                change.ts_ms,
                change.old.value,
                change.new.value,
                change.reason.value,
                change.detail,
            )
        )
        if change.new is TradingState.KILLED and change.old is not TradingState.KILLED:
            out.records.append(
                KillEvent(
                    self.cfg.run_id,
                    change.ts_ms,
                    kill_source,
                    kill_reason or f"{change.reason.value}: {change.detail}",
                )
            )


def describe_intent(intent: Intent) -> str:
    """A short human label: ``buy 0.010``, ``sell 100%``, ``wait`` (SOL with at least
    3 decimals, more only when the amount has them: never rounded)."""
    action = intent.action.value
    if action in ("buy", "sidebet"):
        whole, frac = divmod(intent.amount, 1_000_000_000)
        digits = f"{frac:09d}".rstrip("0").ljust(3, "0")
        return f"{action} {whole}.{digits}"
    if action == "sell":
        return f"sell {intent.percentage}%"
    return action
