"""The gate's rules, one small module each (freqtrade-protections style), found by name.

A rule is a module with ``check(intent, ctx) -> Refusal | None``: ``None`` lets the
intent through to the next rule; the first refusal wins (``rugsd.risk.gate``). WAIT never
reaches a rule.

- ``REQUIRED`` always run, first, in this order: intent sanity, trading state (the kill
  switch lives here), and what the venue itself would refuse. No configuration turns
  them off.
- ``[risk] protections`` lists the configured limits that run after them, in order
  (default ``DEFAULT_PROTECTIONS``: entries only, then the rate limit). A name is a
  module of this package (``bet_size`` → ``rugsd.risk.rules.bet_size``) or a dotted
  module path (a rule of your own). Its parameters are the ``[risk]`` keys, and a rule
  of your own reads ``[risk.<name>]`` through ``ctx.limits.params(name)``.

To add a rule: one module with ``check`` and its name in ``[risk] protections`` —
tests/risk/test_risk_rules.py is the worked example.

Money rules are checked on the account *after* the order, with the integer arithmetic of
``rugsd.daemon.game.accounting``:

- position: ``cost + amount <= max_position`` (buys),
- exposure: open position cost + open sidebet stake after the order ``<= max_exposure``,
- reserve: ``balance - amount >= min_balance_reserve``,
- loss budget: the worst case of an entry (position and sidebets worth nothing, so equity
  = cash after the order) must not breach the daily-loss or drawdown limit. Because equity
  never falls below cash, entries alone can then never trip a loss limit; a drawdown from
  a marked-up position that falls back still can (that is what the KILL is for).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from rugsd.risk.values import DEFAULT_PROTECTIONS

if TYPE_CHECKING:
    from rugsd.risk.context import GateContext
    from rugsd.risk.verdicts import Refusal
    from rugsd.strategy.intents import Intent

Rule = Callable[["Intent", "GateContext"], "Refusal | None"]

REQUIRED: tuple[str, ...] = (
    "valid_intent",
    "no_pending_order",
    "trading_state",
    "game_known",
    "phase_open",
    "price_sane",
    "stake_fundable",
    "sell_possible",
    "sidebet_free",
)

__all__ = ["DEFAULT_PROTECTIONS", "REQUIRED", "Rule", "RuleError", "load_rule", "rules_for"]


class RuleError(ValueError):
    """A rule named in ``[risk] protections`` cannot be found; one line saying why."""


def load_rule(name: str) -> Rule:
    """The ``check`` of rule ``name`` (this package's module, else a dotted module path)."""
    module = None
    if name.isidentifier():
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as err:
            if err.name != f"{__name__}.{name}":
                raise
    if module is None:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError:
            raise RuleError(f"unknown risk rule {name!r} in [risk] protections (known: "
                            f"{', '.join(DEFAULT_PROTECTIONS)}, or a module path)") from None
    check = getattr(module, "check", None)
    if not callable(check):
        raise RuleError(f"risk rule {name!r}: module {module.__name__} has no check()")
    return check


@lru_cache(maxsize=32)
def _rules(protections: tuple[str, ...]) -> tuple[Rule, ...]:
    return tuple(load_rule(name) for name in (*REQUIRED, *protections))


def rules_for(protections: Sequence[str]) -> tuple[Rule, ...]:
    """Every rule the gate runs, in order: ``REQUIRED``, then ``protections``."""
    return _rules(tuple(protections))
