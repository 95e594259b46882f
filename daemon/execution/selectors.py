"""The selector map: control name → Playwright selector, matching the real site's UI.

Class names on the real site are CSS-module names with hashed suffixes that change
between builds, so every default matches a *pattern* (``[class*="_clearButton_"]``) or
an exact text (``:text-is("X")`` — exact, so ``X`` never matches ``X2``). The replica
page of ``rugsd sim`` carries the same patterns, so one map drives both.
``Settings.browser.selectors`` overrides entries by name (``merged``).

Each control also has a ``ButtonId`` and a category for human demonstrations
(``CONTROLS``); ``classifier_table`` turns the map into the plain (class-substring, exact
text) pairs the in-page click listener can test without Playwright's selector engines.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class ButtonCategory(StrEnum):
    """What a button does, for behaviour cloning."""

    ACTION = "action"
    BET_ADJUST = "bet_adjust"
    PERCENTAGE = "percentage"


@dataclass(frozen=True, slots=True)
class Control:
    """One clickable control: selector-map name, demonstration id, category."""

    name: str
    button_id: str
    category: ButtonCategory


BET_INPUT = "bet_input"

DEFAULT_SELECTORS: dict[str, str] = {
    BET_INPUT: 'input[type="number"]',
    "clear": '[class*="_clearButton_"]',
    "inc_0.001": '[class*="_controlBtn_"]:text-is("+0.001")',
    "inc_0.01": '[class*="_controlBtn_"]:text-is("+0.01")',
    "inc_0.1": '[class*="_controlBtn_"]:text-is("+0.1")',
    "inc_1": '[class*="_controlBtn_"]:text-is("+1")',
    "half": '[class*="_controlBtn_"]:text-is("1/2")',
    "double": '[class*="_controlBtn_"]:text-is("X2")',
    "max": '[class*="_controlBtn_"]:text-is("MAX")',
    "buy": '[class*="bet-button"]:text-is("BUY")',
    "sell": '[class*="bet-button"]:text-is("SELL")',
    "pct_10": '[class*="_percentageBtn_"]:text-is("10%")',
    "pct_25": '[class*="_percentageBtn_"]:text-is("25%")',
    "pct_50": '[class*="_percentageBtn_"]:text-is("50%")',
    "pct_100": '[class*="_percentageBtn_"]:text-is("100%")',
    "sidebet": '[class*="_sidebetButton_"]',
}

_A, _B, _P = ButtonCategory.ACTION, ButtonCategory.BET_ADJUST, ButtonCategory.PERCENTAGE
CONTROLS: tuple[Control, ...] = (
    Control("buy", "BUY", _A),
    Control("sell", "SELL", _A),
    Control("sidebet", "SIDEBET", _A),
    Control("clear", "CLEAR", _B),
    Control("inc_0.001", "INC_001", _B),
    Control("inc_0.01", "INC_01", _B),
    Control("inc_0.1", "INC_10", _B),
    Control("inc_1", "INC_1", _B),
    Control("half", "HALF", _B),
    Control("double", "DOUBLE", _B),
    Control("max", "MAX", _B),
    Control("pct_10", "PCT_10", _P),
    Control("pct_25", "PCT_25", _P),
    Control("pct_50", "PCT_50", _P),
    Control("pct_100", "PCT_100", _P),
)
CONTROL_BY_NAME = {c.name: c for c in CONTROLS}
CONTROL_BY_ID = {c.button_id: c for c in CONTROLS}
INCREMENTS_LAMPORTS: tuple[tuple[str, int], ...] = (
    ("inc_1", 1_000_000_000),
    ("inc_0.1", 100_000_000),
    ("inc_0.01", 10_000_000),
    ("inc_0.001", 1_000_000),
)

_CLASS_RE = re.compile(r'\[class\*=["\']([^"\']+)["\']\]')
_TEXT_RE = re.compile(r':text-is\(\s*["\'](.*?)["\']\s*\)|text=["\'](.*?)["\']')


def merged(overrides: Mapping[str, str] | None) -> dict[str, str]:
    """The defaults with config overrides applied (unknown names are kept: extra controls)."""
    out = dict(DEFAULT_SELECTORS)
    for name, sel in (overrides or {}).items():
        if isinstance(sel, str) and sel.strip():
            out[name] = sel
    return out


def pct_name(percentage: int) -> str:
    """The control name of a sell-percentage button."""
    return f"pct_{percentage}"


def increments_for(amount: int) -> list[str] | None:
    """The +buttons a person would press (after ``X``) to type ``amount`` lamports.

    Greedy over +1/+0.1/+0.01/+0.001; None when the amount is not a multiple of 0.001
    SOL or needs more than 40 presses (then the input is filled instead).
    """
    if amount <= 0 or amount % 1_000_000:
        return None
    presses: list[str] = []
    rest = amount
    for name, step in INCREMENTS_LAMPORTS:
        n, rest = divmod(rest, step)
        presses.extend([name] * n)
    return presses if len(presses) <= 40 else None


def classifier_table(selectors: Mapping[str, str]) -> list[dict[str, str | None]]:
    """``[{id, category, cls, text}]`` for the in-page click classifier.

    ``cls`` is the class substring of the selector's last ``[class*=...]`` and ``text`` its
    exact text (``:text-is(...)`` / ``text="..."``); a control with neither is skipped.
    """
    table: list[dict[str, str | None]] = []
    for control in CONTROLS:
        sel = selectors.get(control.name)
        if not sel:
            continue
        classes = _CLASS_RE.findall(sel)
        texts = [a or b for a, b in _TEXT_RE.findall(sel)]
        cls = classes[-1] if classes else None
        text = texts[-1] if texts else None
        if cls is None and text is None:
            continue
        table.append(
            {"id": control.button_id, "category": control.category.value, "cls": cls,
             "text": text}
        )
    return table
