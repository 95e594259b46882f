"""Model outputs of ONE decision: which decision (tick, intent, what produced it), the
sidebet model's rug probability and every action's probability, in the policy's fixed
order (rows never move), the chosen action marked.

Tall enough: one row per action with a bar. Short (80×24): the actions in two columns.
The outputs always belong to ``model.decision`` (the daemon sends none for a decision the
models did not make, e.g. the risk layer's flatten) — so this panel and the decision log
can never show two different decisions as "the" decision.
"""

from __future__ import annotations

import textwrap

from rich.text import Text
from textual.widget import Widget

from rugsd.daemon.control.protocol import DecisionInfo, ModelInfo
from rugsd.tui.format import bar, is_num, percent

PCT_W = 5  # " 61.0%" without the leading space


def decision_line(decision: DecisionInfo | None, p_rug: float | None) -> Text:
    """``t120 → wait · p_rug 18.3%`` (the decision these outputs belong to)."""
    t = Text(no_wrap=True, overflow="ellipsis")
    if decision is None:
        t.append("no decision yet", style="dim")
        return t
    tick = decision.tick if decision.tick is not None else "?"
    t.append(f"t{tick} ", style="grey70")
    t.append("→ ", style="grey50")
    t.append(decision.intent or "?", style="bold")
    if is_num(p_rug):
        t.append(" · p_rug ", style="grey70")
        t.append(percent(p_rug).strip(), style="bold magenta")
    return t


def _why_no_outputs(decision: DecisionInfo | None, strategy: str | None) -> str:
    source = decision.source if decision is not None else ""
    if source.startswith("risk:"):
        return f"decided by the risk layer ({source}), not the model"
    rule = source.split(":")[0] if source and not source.startswith("onnx") else None
    rule = rule or (strategy if strategy and strategy != "onnx" else None)
    if rule:
        return f"rule strategy ({rule}): no model"
    if decision is not None and decision.tick is not None and decision.tick < 0:
        return "no model output (between games)"
    return "no model output for this decision"


def _cell(name: str, p: float | None, name_w: int, bar_w: int, chosen: bool) -> Text:
    t = Text(no_wrap=True)
    t.append(name.ljust(name_w), style="bold reverse" if chosen else "grey70")
    if bar_w > 0:
        t.append(" ")
        t.append_text(bar(p, bar_w, "cyan"))
    t.append(" " + percent(p), style="bold" if chosen else "")
    return t


def render_model(model: ModelInfo | None, width: int, height: int = 99,
                 strategy: str | None = None) -> Text:
    """Decision line, then p_rug and the actions: one per row if they fit, else two
    columns; every action is shown, none is cut."""
    if model is None:
        return Text("no data yet", style="dim")
    names = model.action_names
    probs = list(model.action_probs or [])
    room = height - 1 - (1 if model.non_finite else 0) - (1 if model.fallbacks else 0)
    one_per_row = room >= len(names) + 1
    text = decision_line(model.decision, None if probs and one_per_row else model.p_rug)
    if not probs:
        for line in textwrap.wrap(_why_no_outputs(model.decision, strategy), max(10, width)):
            text.append("\n")
            text.append(line, style="dim")
    else:
        probs += [None] * (len(names) - len(probs))
        name_w = max((len(n) for n in names), default=4)
        chosen = model.action_index
        if one_per_row:  # a row each, p_rug first
            bar_w = max(0, width - name_w - PCT_W - 2)
            text.append("\n")
            text.append_text(_cell("p_rug".ljust(name_w), model.p_rug, name_w, bar_w, False))
            for i, (name, p) in enumerate(zip(names, probs, strict=False)):
                text.append("\n")
                text.append_text(_cell(name, p, name_w, bar_w, i == chosen))
        else:  # two columns, reading down
            col_w = (width - 2) // 2
            bar_w = max(0, min(8, col_w - name_w - PCT_W - 2))
            rows = (len(names) + 1) // 2
            for r in range(rows):
                text.append("\n")
                for c in (r, r + rows):
                    if c >= len(names):
                        continue
                    cell = _cell(names[c], probs[c], name_w, bar_w, c == chosen)
                    if c == r:
                        cell.pad_right(max(0, col_w - cell.cell_len) + 2)
                    text.append_text(cell)
    if model.non_finite:
        text.append("\n")
        text.append(f"⚠ non-finite outputs held: {model.non_finite}", style="bold yellow")
    if model.fallbacks:
        text.append("\n")
        text.append(f"⚠ combined model failed {model.fallbacks}×: decided on the two graphs",
                    style="bold yellow")
    return text


class ModelPanel(Widget):
    """The policy's action probabilities and p_rug, of the decision they belong to."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.model: ModelInfo | None = None
        self.strategy: str | None = None
        self.border_title = "model"

    def show(self, model: ModelInfo | None, strategy: str | None = None) -> None:
        """Take the model section of a snapshot (and the strategy's name) and redraw."""
        self.model, self.strategy = model, strategy
        self.refresh()

    def render(self) -> Text:
        """Draw at the current content size."""
        size = self.content_size
        return render_model(self.model, size.width, size.height, self.strategy)
