"""The selector map: control name → how to find it on the page, and what it must say.

The defaults follow the real rugs.fun page as a public client written against it found
it (DESIGN.md §1): CSS-module class names carry hashed suffixes that change between
builds, so every selector matches a *pattern* (``[class*="_clearButton_"]``) inside its
container, never a full class name:

- BUY and SELL are the 1st and 2nd ``_buttonSection_`` of ``_buttonsRow_`` (found by
  position) and their text carries the amount ("BUY+0.030 SOL"): they are checked by
  *starts-with* text (``^BUY``), never exact text;
- the SIDEBET is the round ``.bet-button`` badge ("BET 0.002 SOL") in the sidebet
  banner (``sidebet-banner`` / ``sidebet-container``);
- ``X`` is ``_clearButton_`` in ``_inputActions_``; ``+0.001`` … ``MAX`` are
  ``_controlBtn_`` with exact text (``X`` never matches ``X2``); the sell shares are
  ``_percentageBtn_`` with exact text in ``_sellControlButtonsContainer_`` (two icon
  buttons precede ``10%`` there, so never by position).

Each control has two parts: ``selector`` (Playwright, how to find it: must resolve to
exactly one visible element) and ``expect`` (a case-insensitive regular expression its
trimmed text must match). The text is checked when the control is resolved and again in
the page just before each click: an element that says something else is never clicked
(the order FAILS). ``Settings.browser.selectors`` / ``Settings.browser.expect`` override
entries by name (``merged`` / ``merged_expect``); ``rugsd browser check`` resolves them
all on a page without clicking.

Each control also has a ``ButtonId`` and a category for human demonstrations
(``CONTROLS``); ``classifier_table`` turns the map into the (class substring, text
pattern) rows the in-page click listener can test without Playwright's selector engines.
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
_INPUTS = '[class*="_inputActions_"]'
_SELL_ROW = '[class*="_sellControlButtonsContainer_"]'
_BUTTONS_ROW = '[class*="_buttonsRow_"] > [class*="_buttonSection_"]'
_SIDEBET_BANNER = ':is([class*="sidebet-banner"], [class*="sidebet-container"])'


def _adjust(text: str) -> str:
    return f'{_INPUTS} [class*="_controlBtn_"]:text-is("{text}")'


def _pct(p: int) -> str:
    return f'{_SELL_ROW} [class*="_percentageBtn_"]:text-is("{p}%")'


DEFAULT_SELECTORS: dict[str, str] = {
    BET_INPUT: 'input[type="number"]',
    "clear": f'{_INPUTS} [class*="_clearButton_"]',
    "inc_0.001": _adjust("+0.001"),
    "inc_0.01": _adjust("+0.01"),
    "inc_0.1": _adjust("+0.1"),
    "inc_1": _adjust("+1"),
    "half": _adjust("1/2"),
    "double": _adjust("X2"),
    "max": _adjust("MAX"),
    "buy": f"{_BUTTONS_ROW}:nth-child(1)",
    "sell": f"{_BUTTONS_ROW}:nth-child(2)",
    "pct_10": _pct(10),
    "pct_25": _pct(25),
    "pct_50": _pct(50),
    "pct_100": _pct(100),
    "sidebet": f"{_SIDEBET_BANNER} .bet-button",
}

# the text each control must show (JavaScript regex source, case-insensitive, on the
# trimmed textContent); the bet input is checked to be an <input> instead
DEFAULT_EXPECT: dict[str, str] = {
    "clear": r"^[X×✕✖]$",
    "inc_0.001": r"^\+0\.001$",
    "inc_0.01": r"^\+0\.01$",
    "inc_0.1": r"^\+0\.1$",
    "inc_1": r"^\+1$",
    "half": r"^1/2$",
    "double": r"^X2$",
    "max": r"^MAX$",
    "buy": r"^BUY",
    "sell": r"^SELL",
    "pct_10": r"^10%$",
    "pct_25": r"^25%$",
    "pct_50": r"^50%$",
    "pct_100": r"^100%$",
    "sidebet": r"^BET",
}

# action controls whose text also shows the amount they will stake ("BUY+0.002 SOL",
# "BET 0.002 SOL"): the shown amount is checked against the order before the click
AMOUNT_SHOWN: dict[str, str] = {
    "buy": r"^BUY\s*\+?\s*([0-9]+(?:\.[0-9]+)?)\s*SOL",
    "sidebet": r"^BET\s*([0-9]+(?:\.[0-9]+)?)\s*SOL",
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

_CLASS_RE = re.compile(r'\[class\*=["\']([^"\']+)["\']\]|\.([A-Za-z_][\w-]*)')


def merged(overrides: Mapping[str, str] | None) -> dict[str, str]:
    """The default selectors with config overrides applied (unknown names: extra controls)."""
    return _merge(DEFAULT_SELECTORS, overrides)


def merged_expect(overrides: Mapping[str, str] | None) -> dict[str, str]:
    """The default text patterns with config overrides applied (a blank keeps the default)."""
    return _merge(DEFAULT_EXPECT, overrides)


def _merge(base: Mapping[str, str], overrides: Mapping[str, str] | None) -> dict[str, str]:
    out = dict(base)
    for name, value in (overrides or {}).items():
        if isinstance(value, str) and value.strip():
            out[name] = value
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


def element_class(selector: str) -> str | None:
    """The class substring of the selector's last ``[class*=...]`` or ``.class`` (or None)."""
    found = [a or b for a, b in _CLASS_RE.findall(selector)]
    return found[-1] if found else None


def classifier_table(
    selectors: Mapping[str, str], expect: Mapping[str, str] | None = None
) -> list[dict[str, str | None]]:
    """``[{id, category, cls, text}]`` for the in-page click classifier.

    ``cls`` is the class substring of the control's own element (``element_class``) and
    ``text`` its expected-text pattern (``merged_expect``); a control with neither is
    skipped. A pressed element is a control when its class contains ``cls`` and its text
    matches ``text``.
    """
    expect = merged_expect(None) if expect is None else expect
    table: list[dict[str, str | None]] = []
    for control in CONTROLS:
        sel = selectors.get(control.name)
        if not sel:
            continue
        cls = element_class(sel)
        text = expect.get(control.name) or None
        if cls is None and text is None:
            continue
        table.append(
            {"id": control.button_id, "category": control.category.value, "cls": cls,
             "text": text}
        )
    return table
