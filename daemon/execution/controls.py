"""The UI side of one order: which controls to touch, in which order, and their handles.

``plan_ops`` (pure) turns an ``Order`` into a short list of operations on named controls
— fill the bet input (or press ``X`` then the ``+`` buttons, as a person would), click a
percentage, click BUY/SELL/SIDEBET. ``Controls`` keeps one pre-resolved
``ElementHandle`` per control so the hot path does no selector work; a handle is
re-resolved only when the page reports it stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from rugsd.daemon.execution.confirm import sol_text
from rugsd.daemon.execution.launch import BROWSER_ERRORS
from rugsd.daemon.execution.selectors import BET_INPUT, increments_for, pct_name
from rugsd.risk.verdicts import Order
from rugsd.strategy.intents import Action

BetEntry = Literal["fill", "buttons"]
ACTION_CONTROL = {Action.BUY: "buy", Action.SELL: "sell", Action.SIDEBET: "sidebet"}


@dataclass(frozen=True, slots=True)
class Plan:
    """Controls involved (``names``) and operations ``[index, "fill", text] | [index, "click"]``."""

    names: tuple[str, ...]
    ops: tuple[tuple[Any, ...], ...]


def plan_ops(order: Order, bet_entry: BetEntry = "fill") -> Plan:
    """The UI operations that place ``order`` (the caller prechecked it)."""
    action = ACTION_CONTROL[order.action]
    if order.action is Action.SELL:
        return Plan((pct_name(order.percentage), action), ((0, "click"), (1, "click")))
    presses = increments_for(order.amount) if bet_entry == "buttons" else None
    if presses is None:
        return Plan((BET_INPUT, action), ((0, "fill", sol_text(order.amount)), (1, "click")))
    names: list[str] = ["clear"]
    for p in presses:
        if p not in names:
            names.append(p)
    names.append(action)
    ops = [(0, "click")] + [(names.index(p), "click") for p in presses]
    ops.append((len(names) - 1, "click"))
    return Plan(tuple(names), tuple(ops))


class Controls:
    """Pre-resolved element handles for the selector map, on one page."""

    def __init__(self, selectors: dict[str, str]) -> None:
        """``selectors``: control name → Playwright selector (``selectors.merged``)."""
        self.selectors = selectors
        self.handles: dict[str, Any] = {}
        self.resolves = 0
        self.dispose_errors = 0

    def clear(self) -> None:
        """Forget every handle (new page)."""
        self.handles.clear()

    async def resolve(self, page: Any, names: tuple[str, ...] | list[str]) -> None:
        """(Re)resolve ``names`` on ``page``; a missing control becomes None."""
        for name in names:
            sel = self.selectors.get(name)
            old = self.handles.pop(name, None)
            if old is not None:
                try:
                    await old.dispose()
                except BROWSER_ERRORS:  # the page is gone: nothing left to free
                    self.dispose_errors += 1
            self.handles[name] = await page.query_selector(sel) if sel else None
            self.resolves += 1

    async def prepare(self, page: Any) -> None:
        """Resolve every control of the map (at start and after a restart)."""
        self.clear()
        await self.resolve(page, list(self.selectors))

    def get(self, names: tuple[str, ...]) -> list[Any]:
        """The handles of ``names`` (None where unresolved)."""
        return [self.handles.get(n) for n in names]
