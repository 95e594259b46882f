"""The UI side of one order: which controls to touch, how to find them, what they must say.

``plan_ops`` (pure) turns an ``Order`` into a short list of operations on named controls
— fill the bet input (or press ``X`` then the ``+`` buttons, as a person would), click a
percentage, click BUY/SELL/SIDEBET — and the in-page checks of each control (its text
pattern; for BUY and SIDEBET the amount their label must show).

``resolve_controls`` finds controls on a page: its selector must match exactly one
*visible* element, and that element's text must match the control's pattern. It is the
one resolution path, used by the executor (``Controls``: one pre-resolved
``ElementHandle`` per control, so the hot path does no selector work) and by
``rugsd browser check`` (``daemon/execution/check.py``), which only reports.
"""

from __future__ import annotations

import asyncio
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
INSPECT_JS = ("([groups, checks]) => groups.map((els, i) => "
              "els.map((el) => window.__rugsdExec.inspect(el, checks[i], \"resolve\")))")
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


async def resolve_controls(
    page: Any, specs: list[tuple[str, str, dict[str, Any]]]
) -> list[tuple[Resolution, Any]]:
    """Resolve controls without clicking: per ``(name, selector, check)``, its
    ``Resolution`` and its handle (None unless exactly one visible, matching element).

    One query per selector (sent together) and one in-page inspection for all; the page
    must have ``js/exec.js`` installed (``window.__rugsdExec``). Handles not kept are
    disposed. Raises the browser's errors when the page is gone.
    """
    groups = list(await asyncio.gather(*(page.query_selector_all(sel) for _, sel, _ in specs)))
    seen = await page.evaluate(INSPECT_JS, [groups, [c for _, _, c in specs]]) if specs else []
    out: list[tuple[Resolution, Any]] = []
    drop: list[Any] = []
    for (name, selector, check), handles, looks in zip(specs, groups, seen, strict=True):
        shown = [(h, s) for h, s in zip(handles, looks, strict=True) if s["visible"]]
        text = shown[0][1]["text"][:TEXT_SHOWN] if shown else None
        problem = _problem(len(handles), shown, text, check.get("expect"))
        keep = shown[0][0] if len(shown) == 1 and not problem else None
        drop.extend(h for h in handles if h is not keep)
        out.append((Resolution(name, selector, check.get("expect"), len(handles), len(shown),
                               text, problem), keep))
    await asyncio.gather(*(h.dispose() for h in drop))
    return out


def _problem(found: int, shown: list[tuple[Any, dict[str, Any]]], text: str | None,
             expect: str | None) -> str:
    if not found:
        return "not found"
    if not shown:
        return f"{found} found, none visible"
    if len(shown) > 1:
        return f"{len(shown)} visible elements"
    problem = shown[0][1]["problem"]
    if problem == "not_input":
        return "not an input element"
    if problem == "mismatch":
        return f"says {text!r}, expected /{expect}/i"
    return ""


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
        old = [h for h in (self.handles.pop(n, None) for n in names) if h is not None]
        for result in await asyncio.gather(*(h.dispose() for h in old), return_exceptions=True):
            if isinstance(result, BROWSER_ERRORS):  # the page is gone: nothing left to free
                self.dispose_errors += 1
            elif isinstance(result, BaseException):
                raise result
        self.resolves += len(names)
        specs = [(n, self.selectors[n], self.checks[n]) for n in names if self.selectors.get(n)]
        for name in names:
            self.handles[name] = None
        for found, handle in await resolve_controls(page, specs):
            self.found[found.name] = found
            self.handles[found.name] = handle

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
