"""Human demonstrations (``rugsd record --human``) → (observation, action) pairs for
behaviour cloning.

Inputs: ``ButtonEvent`` Parquet (``DIR/button_events/*.parquet``,
``rugsd.daemon.execution.buttons``) and the price paths of the games played, from the
recorder's own ticks (``DIR/human_ticks/*.parquet``), the daemon's dataset
(``DATA_DIR/dataset/ticks`` and ``…/human_ticks``) and recordings (complete games).

Actions — one per *completed* action sequence (presses ending with BUY/SELL/SIDEBET), at
the tick of its final press, as a ``rugsd.strategy.actions`` index:

- BUY with the bet amount of the BUY press → the configured buy size nearest in ratio
  (``ActionTable.from_config``); it fits when within a factor ``BUY_FIT`` (2) of that
  size, else skipped (``buy_amount_unfit``). Ties go to the smaller size.
- SELL → ``sell_25/50/100`` with the percentage selected on the page (the last
  ``PCT_*`` press of the session; 100 % until one is pressed, as on the page); 10 % has
  no policy action (``sell_10``, skipped).
- SIDEBET → ``sidebet`` (whatever the stake: the policy has one sidebet size).
Skipped too: presses outside presale/active (the venue refuses them), a sequence cut by
a new game or the end of the recording, an action the venue mask says is impossible at
that state, a press whose price disagrees with the path. Every skip is counted by reason.

Observations — THE feature vector of ``rugsd.strategy.features`` as training builds it:
the game's price path up to the press tick (nothing later: the ``GameSpec`` handed to
the state machine is cut there) is turned into ``rugsd.training.episodes.game_events`` (the
simulator's schedule, the previous 10 complete games as ``gameHistory``, no room
statistics) and fed to
the daemon's ``GameStateMachine``; the view at the press tick and the account give
``build_features``. So demonstrations and env observations share one distribution.
Presale presses are put on the core's presale decision grid
(``PRESALE_DECISION_TIMERS``: once per 250 ms of countdown, the nearest by time before
tick 0).

Account — balance and position from the press itself (the page's ``playerUpdate``,
exact 9-place decimals → lamports / nano-tokens); cost, entry tick and sidebet from
replaying the human's own orders through ``rugsd.daemon.game.matching`` /
``rugsd.daemon.game.accounting``, anchored at the first press of each game (flat by then: the
rug settled the previous game). An active-phase order fills at the first tick after the
press that the later presses' balance/position agree with (at most ``MAX_FILL_LAG``
ticks later; a presale order at once, 1.00x). A game whose observations stop agreeing
with the replay keeps only its pairs before that point (``account_diverged``).

WAIT pairs — every ``wait_every``-th tick (default 5 → 1.25 s; the phase of the grid is
fixed by tick number) of the ticks the session watched live in a game where the human
pressed (ticks 0 … last press when only other sources have the path), except the
``reaction_ticks`` (default 4 → 1 s) before the first press of a sequence through its
final press, and the ticks while an order waits for its fill.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import structlog

from rugsd.daemon.config import StrategyConfig
from rugsd.daemon.events import Phase
from rugsd.daemon.game import accounting, matching
from rugsd.daemon.game.accounting import Account
from rugsd.daemon.game.matching import OrderKind, PendingOrder
from rugsd.daemon.state.machine import GameStateMachine
from rugsd.strategy.actions import (
    N_ACTIONS,
    SELL_INDICES,
    SELL_PERCENTS,
    SIDEBET_INDEX,
    ActionTable,
    action_mask,
)
from rugsd.strategy.features import N_FEATURES, build_features
from rugsd.training.demo_sources import (
    PricePath,
    button_files,
    lamports,
    load_paths,
    read_button_events,
    tick_files,
)
from rugsd.training.episodes import PRESALE_DECISION_TIMERS, GameSpec, game_events, history_for

log = structlog.get_logger(__name__)

BUY_FIT = 2.0
MAX_FILL_LAG = 8
WAIT_EVERY = 5
REACTION_TICKS = 4
PRESALE, ACTIVE = 1, 2  # ButtonEvent.game_phase codes
ACTION_BUTTONS = {"BUY": OrderKind.BUY, "SELL": OrderKind.SELL, "SIDEBET": OrderKind.SIDEBET}


@dataclass(frozen=True, slots=True)
class DemoPair:
    """One demonstration: what the policy would have seen, and what the human did."""

    session_id: str
    game_id: str
    tick: int  # -1 for a presale decision
    action: int
    kind: str  # "press" | "wait"
    obs: np.ndarray
    mask: np.ndarray
    sequence_id: str | None = None


@dataclass(slots=True)
class DemoSet:
    """The pairs and what was skipped (reason → count)."""

    pairs: list[DemoPair] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)
    notes: Counter = field(default_factory=Counter)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(obs float32 [N, F], actions int64 [N], masks bool [N, A])."""
        if not self.pairs:
            return (np.zeros((0, N_FEATURES), np.float32), np.zeros(0, np.int64),
                    np.zeros((0, N_ACTIONS), bool))
        return (np.stack([p.obs for p in self.pairs]).astype(np.float32),
                np.array([p.action for p in self.pairs], np.int64),
                np.stack([p.mask for p in self.pairs]).astype(bool))

    def summary(self) -> dict:
        """Counts for reports."""
        kinds = Counter(p.kind for p in self.pairs)
        return {"pairs": len(self.pairs), "press_pairs": kinds["press"],
                "wait_pairs": kinds["wait"],
                "games": len({(p.session_id, p.game_id) for p in self.pairs}),
                "skipped": dict(self.skipped), "notes": dict(self.notes)}


# -- mapping presses to policy actions -------------------------------------------------------


def buy_action(amount: int, table: ActionTable) -> int | None:
    """The buy action whose size is nearest ``amount`` in ratio (None when none fits)."""
    if amount <= 0:
        return None
    dist = [abs(math.log(amount / lam)) for lam in table.buy_lamports]
    best = min(range(len(dist)), key=lambda i: (dist[i], i))
    return 1 + best if dist[best] <= math.log(BUY_FIT) + 1e-12 else None


def sell_action(percentage: int) -> int | None:
    """``sell_25/50/100`` for a page percentage (None for 10 %)."""
    if percentage in SELL_PERCENTS:
        return SELL_INDICES[SELL_PERCENTS.index(percentage)]
    return None


# -- one game of one session -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Order:
    index: int  # event index of the action press
    kind: OrderKind
    amount: int
    percentage: int
    tick: int  # press tick (-1: presale)
    action: int | None  # policy action (None: skipped, see ``reason``)
    reason: str = ""


class _Replay:
    """The human's account in one game: an anchor plus their orders' fills."""

    def __init__(self, anchor: Account, path: PricePath) -> None:
        self.anchor = anchor
        self.path = path
        self.fills: list[tuple[int, _Order]] = []  # (fill tick, order), fill order

    def state(self, tick: int, extra: tuple[int, _Order] | None = None,
              before: int | None = None) -> Account:
        """The account at ``tick`` (fills up to it; ``before``: only orders pressed
        before that event index; ``extra`` a candidate fill)."""
        acct = self.anchor
        fills = self.fills + ([extra] if extra is not None else [])
        for k, order in fills:
            if k > tick or (before is not None and order.index >= before):
                continue
            acct = self._apply(acct, k, order)
        if tick >= 0:
            acct = accounting.settle_tick(acct, tick)[0]
        return acct

    def _apply(self, acct: Account, k: int, order: _Order) -> Account:
        pending = PendingOrder(f"demo-{order.index}", order.kind, order.amount, order.percentage)
        if matching.precheck(pending) is not None:
            return acct
        if k < 0:
            out = matching.fill_presale(acct, pending)
            return out[0] if isinstance(out, tuple) else acct
        if k >= len(self.path.prices):
            return acct
        return matching.match_tick(acct, [pending], k, float(self.path.prices[k]), False).account


def _tick(ev: dict) -> int | None:
    """The press tick for account checks: -1 before the game starts, None after the rug."""
    phase = ev["game_phase"]
    if phase == ACTIVE:
        return int(ev["tick"])
    return -1 if phase in (0, PRESALE) else None


def _observed(ev: dict) -> tuple[int, int]:
    return lamports(ev["balance"]), lamports(ev["position_qty"])


def _matches(acct: Account, ev: dict) -> bool:
    return (acct.balance, acct.qty) == _observed(ev)


class _GameDemos:
    """Pairs of one (session, game)."""

    def __init__(self, events: list[dict], orders: list[_Order], path: PricePath,
                 history: tuple, table: ActionTable, out: DemoSet) -> None:
        self.events, self.orders, self.path = events, orders, path
        self.history, self.table, self.out = history, table, out
        first = next((e for e in events if _tick(e) is not None), events[0])
        bal, qty = _observed(first)
        self.replay = _Replay(Account(balance=bal, credited=bal), path)
        self.ok = qty == 0
        self.diverged = math.inf  # pairs at ticks >= this are dropped
        if not self.ok:
            out.skipped["account_unknown"] += len(orders)

    def infer_fills(self) -> None:
        """Fill tick of each order, from the later presses' balance and position."""
        ev = self.events
        acts = [o.index for o in self.orders]
        last_k = -1
        for n, order in enumerate(self.orders):
            if order.reason == "phase_closed":  # the venue refuses it: no fill
                continue
            if order.tick < 0:  # presale: at once
                self.replay.fills.append((-1, order))
                continue
            upto = acts[n + 1] if n + 1 < len(acts) else len(ev) - 1
            checks = [ev[j] for j in range(order.index + 1, upto + 1) if _tick(ev[j]) is not None]
            lo = max(order.tick + 1, last_k)
            found = None
            for k in range(lo, order.tick + MAX_FILL_LAG + 1):
                if all(self._consistent(e, (k, order)) for e in checks):
                    found = k
                    break
            if not checks:
                self.out.notes["fill_tick_assumed"] += 1
            if found is None:
                found = order.tick + 1
                if checks:
                    self.out.notes["fill_tick_unverified"] += 1
                    self.diverged = min(self.diverged, found)
            last_k = found
            self.replay.fills.append((found, order))

    def _consistent(self, e: dict, cand: tuple[int, _Order]) -> bool:
        t = _tick(e)
        k = cand[0]
        post = self.replay.state(t, cand)
        pre = self.replay.state(t)
        return (t >= k and _matches(post, e)) or (t <= k and _matches(pre, e))

    def verify(self) -> None:
        """Drop everything from the first press the replay cannot explain."""
        for i, e in enumerate(self.events):
            t = _tick(e)
            if t is None:
                continue
            now = self.replay.state(t, before=i)
            lagged = self.replay.state(t - 1, before=i) if t >= 0 else now
            if not (_matches(now, e) or _matches(lagged, e)):
                self.diverged = min(self.diverged, max(t, 0))
                self.out.notes["account_diverged"] += 1
                return

    def wait_ticks(self, watched: tuple[int, int] | None, wait_every: int,
                   reaction: int) -> list[int]:
        """The sampled WAIT ticks (see the module docstring)."""
        n = len(self.path.prices)
        last_press = max(int(e["tick"]) for e in self.events if e["game_phase"] == ACTIVE) \
            if any(e["game_phase"] == ACTIVE for e in self.events) else -1
        lo, hi = watched if watched is not None else (0, last_press)
        hi = min(hi, n - 1)
        busy = np.zeros(n + 1, dtype=bool)
        seq_start: dict[str, int] = {}
        for e in self.events:
            t = int(e["tick"]) if e["game_phase"] == ACTIVE else 0
            s = seq_start.setdefault(e["sequence_id"], t)
            busy[max(0, s - reaction) : min(n, t) + 1] = True
        for k, order in self.replay.fills:
            if order.tick >= 0:
                busy[order.tick : min(k, n)] = True
        return [w for w in range(max(lo, 0), hi + 1)
                if w % wait_every == 0 and not busy[w] and w < self.diverged]

    def pairs(self, session: str, waits: list[int], presale_ts: dict[int, int]) -> None:
        """Observations for the orders and the WAIT ticks (one state-machine pass)."""
        want: dict[int, list[tuple]] = {}
        for o in self.orders:
            if o.action is None:
                self.out.skipped[o.reason] += 1
                continue
            t = o.tick if o.tick >= 0 else -presale_ts[o.index]  # presale: -timer
            if max(o.tick, 0) >= self.diverged:
                self.out.skipped["account_diverged"] += 1
                continue
            e = self.events[o.index]
            if o.tick >= 0 and float(self.path.prices[o.tick]) != float(e["price"]):
                self.out.skipped["price_mismatch"] += 1
                continue
            acct = self.replay.state(max(o.tick, -1), before=o.index)
            want.setdefault(t, []).append(("press", o.action, acct, e["sequence_id"]))
        for w in waits:
            want.setdefault(w, []).append(("wait", 0, self.replay.state(w), None))
        if not want:
            return
        top = max(max(want), 0)
        spec = GameSpec(self.path.game_id, self.path.prices[: top + 1], 0.0,
                        self.path.start_ms, "human")
        machine = GameStateMachine()
        for ev in game_events(spec, self.history)[:-2]:  # no rug (nor its repeat)
            machine.apply(ev)
            view = machine.view
            if view.phase is Phase.PRESALE:
                key = -view.cooldown_ms
            elif view.phase is Phase.ACTIVE:
                key = view.tick
            else:
                continue
            for kind, action, acct, seq in want.pop(key, ()):
                mask = action_mask(view, acct, self.table)
                if not mask[action]:
                    self.out.skipped["invalid_under_mask"] += 1
                    continue
                self.out.pairs.append(DemoPair(session, self.path.game_id, view.tick, action,
                                               kind, build_features(view, acct), mask, seq))


def _orders(events: list[dict], table: ActionTable, pct: list[int]) -> tuple[list[_Order], int]:
    """The completed action sequences of one game (and how many were left incomplete);
    ``pct`` carries the page's percentage selection across games."""
    out: list[_Order] = []
    closed = {e["sequence_id"] for e in events if e["button_id"] in ACTION_BUTTONS}
    incomplete = len({e["sequence_id"] for e in events} - closed)
    for i, e in enumerate(events):
        bid = e["button_id"]
        if bid.startswith("PCT_"):
            pct[0] = int(bid[4:])
            continue
        kind = ACTION_BUTTONS.get(bid)
        if kind is None:
            continue
        phase = e["game_phase"]
        tick = int(e["tick"]) if phase == ACTIVE else -1
        amount = lamports(e["bet_amount"])
        if phase not in (PRESALE, ACTIVE) or (kind is OrderKind.SELL and phase != ACTIVE):
            out.append(_Order(i, kind, amount, pct[0], tick, None, "phase_closed"))
            continue
        if kind is OrderKind.BUY:
            action = buy_action(amount, table)
            reason = "buy_amount_unfit"
        elif kind is OrderKind.SELL:
            action = sell_action(pct[0])
            reason = f"sell_{pct[0]}"
        else:
            action, reason = SIDEBET_INDEX, ""
        out.append(_Order(i, kind, amount, pct[0], tick, action, reason))
    return out, incomplete


def _presale_timer(event: dict, path: PricePath) -> int:
    """The env presale timer nearest to the press time (before the path's tick 0)."""
    ts = event.get("ts")
    if ts is None:
        return PRESALE_DECISION_TIMERS[len(PRESALE_DECISION_TIMERS) // 2]
    left = path.start_ms - int(ts.timestamp() * 1000)
    return min(PRESALE_DECISION_TIMERS, key=lambda timer: (abs(timer - left), timer))


def build_demos(source: Path | Sequence[Path], *, data_dir: Path | None = None,
                recordings: Sequence[Path] = (), cfg: StrategyConfig | None = None,
                wait_every: int = WAIT_EVERY, reaction_ticks: int = REACTION_TICKS) -> DemoSet:
    """All pairs from the ButtonEvents under ``source`` (folders or Parquet files)."""
    table = ActionTable.from_config(cfg or StrategyConfig(), source="human")
    out = DemoSet()
    sources = [Path(source)] if isinstance(source, str | Path) else [Path(s) for s in source]
    files = [f for s in sources for f in button_files(s)]
    rows = read_button_events(files, out.skipped)
    paths, watched = load_paths(tick_files(sources, data_dir), recordings, out.skipped)
    complete = sorted((p for p in paths.values() if p.complete),
                      key=lambda p: (p.start_ms, p.game_id))
    groups: dict[str, dict[str, list[dict]]] = {}
    for r in rows:
        groups.setdefault(r["session_id"], {}).setdefault(r["game_id"], []).append(r)
    for session, games in groups.items():
        pct = [100]
        for gid, events in games.items():
            orders, incomplete = _orders(events, table, pct)
            if incomplete:
                out.skipped["incomplete_sequence"] += incomplete
            path = paths.get(gid)
            needed = max((o.tick for o in orders), default=-1)
            if path is None or len(path.prices) <= max(needed, 0):
                out.skipped["no_price_path"] += sum(1 for _ in orders)
                continue
            history = history_for([p.spec() for p in complete if p.start_ms < path.start_ms
                                   and p.game_id != gid][-10:])
            game = _GameDemos(events, orders, path, history, table, out)
            if not game.ok:
                continue
            game.infer_fills()
            game.verify()
            waits = game.wait_ticks(watched.get((session, gid)), wait_every, reaction_ticks)
            presale = {o.index: _presale_timer(events[o.index], path)
                       for o in orders if o.tick < 0}
            game.pairs(session, waits, presale)
    log.info("human_demos", **{k: v for k, v in out.summary().items() if k != "notes"})
    return out
