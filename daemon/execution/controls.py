"""The UI side of one order: which controls to touch, how to find them, what they must say.

``plan_ops`` (pure) turns an ``Order`` into a short list of operations on named controls
— fill the bet input (or press ``X`` then the ``+`` buttons, as a person would), click a
percentage, click BUY/SELL/SIDEBET — and the in-page checks of each control (its text
pattern; for BUY and SIDEBET the amount their label must show).

``resolve_control`` finds one control on a page: its selector must match exactly one
*visible* element, and that element's text must match the control's pattern. It is the
one resolution path, used by the executor (``Controls``: one pre-resolved
``ElementHandle`` per control, so the hot path does no selector work) and by
``rugsd browser check`` (``daemon/execution/check.py``), which only reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from rugsd.daemon.execution.confirm import sol_text
from rugsd.daemon.execution.launch import BROWSER_ERRORS
from rugsd.daemon.execution.selectors import (
    AMOUNT_SHOWN,
    BET_INPUT,
    increments_for,
    merged,
    merged_expect,
    pct_name,
)
from rugsd.daemon.game.rules import LAMPORTS_PER_SOL
from rugsd.risk.verdicts import Order
from rugsd.strategy.intents import Action

BetEntry = Literal["fill", "buttons"]
ACTION_CONTROL = {Action.BUY: "buy", Action.SELL: "sell", Action.SIDEBET: "sidebet"}
INSPECT_JS = "([els, check]) => els.map((el) => window.__rugsdExec.inspect(el, check))"
TEXT_SHOWN = 60  # characters of a control's text kept for reports


@dataclass(frozen=True, slots=True)
class Plan:
    """Controls involved (``names``), operations ``[index, "fill", text] | [index, "click"]``
    and, for the action control, the amount in SOL its label must show (else None)."""

    names: tuple[str, ...]
    ops: tuple[tuple[Any, ...], ...]
    amount_sol: float | None = None


def plan_ops(order: Order, bet_entry: BetEntry = "fill") -> Plan:
    """The UI operations that place ``order`` (the caller prechecked it)."""
    action = ACTION_CONTROL[order.action]
    if order.action is Action.SELL:
        return Plan((pct_name(order.percentage), action), ((0, "click"), (1, "click")))
    amount = order.amount / LAMPORTS_PER_SOL
    presses = increments_for(order.amount) if bet_entry == "buttons" else None
    if presses is None:
        return Plan((BET_INPUT, action), ((0, "fill", sol_text(order.amount)), (1, "click")),
                    amount)
    names: list[str] = ["clear"]
    for p in presses:
        if p not in names:
            names.append(p)
    names.append(action)
    ops = [(0, "click")] + [(names.index(p), "click") for p in presses]
    ops.append((len(names) - 1, "click"))
    return Plan(tuple(names), tuple(ops), amount)


@dataclass(frozen=True, slots=True)
class Resolution:
    """What one control's selector found on the page (``ok``: usable, else ``problem``)."""

    name: str
    selector: str
    expect: str | None
    matches: int  # elements the selector matched
    visible: int  # of them visible
    text: str | None  # the visible element's text (the first one's when several)
    problem: str = ""  # "" when ok

    @property
    def ok(self) -> bool:
        """Exactly one visible element, saying what it should."""
        return not self.problem


def check_of(name: str, expect: dict[str, str]) -> dict[str, Any]:
    """The in-page check of control ``name`` (see ``js/exec.js`` ``inspect``)."""
    return {"expect": expect.get(name), "input": name == BET_INPUT,
            "shown": AMOUNT_SHOWN.get(name), "amount": None}


async def resolve_control(
    page: Any, name: str, selector: str, check: dict[str, Any]
) -> tuple[Resolution, Any]:
    """Resolve one control without clicking: (its ``Resolution``, its handle or None).

    The page must have ``js/exec.js`` installed (``window.__rugsdExec``). Handles not
    kept are disposed. Raises the browser's errors when the page is gone.
    """
    handles = await page.query_selector_all(selector)
    seen = await page.evaluate(INSPECT_JS, [handles, check]) if handles else []
    shown = [(h, s) for h, s in zip(handles, seen, strict=True) if s["visible"]]
    keep = shown[0][0] if len(shown) == 1 else None
    for h in handles:
        if h is not keep:
            await h.dispose()
    text = shown[0][1]["text"][:TEXT_SHOWN] if shown else None
    expect = check.get("expect")
    if not handles:
        problem = "not found"
    elif not shown:
        problem = f"{len(handles)} found, none visible"
    elif len(shown) > 1:
        problem = f"{len(shown)} visible elements"
    elif shown[0][1]["problem"] in ("mismatch", "not_input"):
        problem = ("not an input element" if shown[0][1]["problem"] == "not_input"
                   else f"says {text!r}, expected /{expect}/i")
    else:
        problem = ""
    if problem and keep is not None:
        await keep.dispose()
        keep = None
    return Resolution(name, selector, expect, len(handles), len(shown), text, problem), keep


class Controls:
    """Pre-resolved element handles for the selector map, on one page."""

    def __init__(self, selectors: dict[str, str] | None = None,
                 expect: dict[str, str] | None = None) -> None:
        """``selectors``: control name → Playwright selector (``selectors.merged``);
        ``expect``: control name → text pattern (``selectors.merged_expect``)."""
        self.selectors = merged(None) if selectors is None else selectors
        self.expect = merged_expect(None) if expect is None else expect
        self.checks = {name: check_of(name, self.expect) for name in self.selectors}
        self.handles: dict[str, Any] = {}
        self.found: dict[str, Resolution] = {}
        self.resolves = 0
        self.dispose_errors = 0

    def clear(self) -> None:
        """Forget every handle (new page)."""
        self.handles.clear()

    async def resolve(self, page: Any, names: tuple[str, ...] | list[str]) -> None:
        """(Re)resolve ``names`` on ``page``; an unusable control becomes None."""
        for name in names:
            sel = self.selectors.get(name)
            old = self.handles.pop(name, None)
            if old is not None:
                try:
                    await old.dispose()
                except BROWSER_ERRORS:  # the page is gone: nothing left to free
                    self.dispose_errors += 1
            self.resolves += 1
            if not sel:
                self.handles[name] = None
                continue
            found, handle = await resolve_control(page, name, sel, self.checks[name])
            self.found[name] = found
            self.handles[name] = handle

    async def prepare(self, page: Any) -> None:
        """Resolve every control of the map (at start and after a restart)."""
        self.clear()
        await self.resolve(page, list(self.selectors))

    def problems(self) -> dict[str, str]:
        """Controls that did not resolve at the last try, with why."""
        return {n: r.problem for n, r in self.found.items() if not r.ok}

    def get(self, names: tuple[str, ...]) -> list[Any]:
        """The handles of ``names`` (None where unresolved)."""
        return [self.handles.get(n) for n in names]

    def checks_for(self, plan: Plan, verify_amount: bool = True) -> list[dict[str, Any]]:
        """The in-page checks of ``plan``'s controls, the action's amount filled in."""
        checks = [dict(self.checks.get(n) or check_of(n, self.expect)) for n in plan.names]
        last = checks[-1]
        if verify_amount and plan.amount_sol is not None and last["shown"]:
            last["amount"] = plan.amount_sol
        return checks


def refusal_detail(plan: Plan, checks: list[dict[str, Any]], result: dict[str, Any],
                   controls: Controls) -> str:
    """Why the page refused to click (nothing of the order was sent)."""
    index = int(result.get("index", 0))
    name = plan.names[index]
    reason = result.get("reason")
    text = str(result.get("text", ""))[:60]
    steps = int(result.get("steps") or 0)
    done = f" (after {steps} earlier step(s); the order itself was not sent)" if steps else ""
    return _refusal(name, reason, text, checks[index], controls) + done


def _refusal(name: str, reason: Any, text: str, check: dict[str, Any],
             controls: Controls) -> str:
    if reason == "stale":
        found = controls.found.get(name)
        why = f" ({found.problem})" if found is not None and found.problem else ""
        return f"control missing: {name}{why}"
    if reason == "mismatch":
        return f"control mismatch: {name} says {text!r}, expected /{check['expect']}/i"
    if reason == "amount":
        return (f"control mismatch: {name} says {text!r}, not the order's "
                f"{check['amount']:g} SOL")
    if reason == "not_input":
        return f"control mismatch: {name} is not an input element"
    return f"control {reason}: {name}"
