"""Model outputs: one bar per action probability (most likely first) and the sidebet
model's rug probability."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from rugsd.daemon.control.protocol import ModelInfo
from rugsd.tui.format import bar, is_num


def render_model(model: ModelInfo | None, width: int, height: int = 99) -> Text:
    """p_rug first, then the actions by probability, as many as fit."""
    if model is None:
        return Text("no data yet", style="dim")
    text = Text(no_wrap=True, overflow="ellipsis")
    names = model.action_names
    probs = model.action_probs or []
    name_w = min(10, max((len(n) for n in names), default=5) + 1)
    name_w = max(name_w, 6)

    def line(name: str, p: float | None, style: str, bold: bool = False) -> None:
        tail = f"{100 * p:5.1f}%" if is_num(p) else "   n/a"
        text.append(name[: name_w - 1].ljust(name_w), style="bold" if bold else "grey70")
        text.append_text(bar(p, max(3, width - name_w - len(tail) - 1), style))
        text.append(" " + tail, style="bold" if bold else "")

    line("p_rug", model.p_rug, "magenta")
    rows = max(0, height - 1 - (1 if model.non_finite else 0))
    ranked = sorted(
        ((p, n) for n, p in zip(names, probs, strict=False) if is_num(p)), reverse=True
    )
    if not probs:
        text.append("\n")
        text.append("no policy output (rule strategy)", style="dim")
    for i, (p, name) in enumerate(ranked[:rows]):
        text.append("\n")
        line(name, p, "cyan", bold=i == 0)
    if model.non_finite:
        text.append("\n")
        text.append(f"⚠ non-finite outputs: {model.non_finite}", style="bold yellow")
    return text


class ModelPanel(Widget):
    """The policy's action probabilities and p_rug."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.model: ModelInfo | None = None
        self.border_title = "model"

    def show(self, model: ModelInfo | None) -> None:
        """Take the model section of a snapshot and redraw."""
        self.model = model
        self.refresh()

    def render(self) -> Text:
        """Draw at the current content size."""
        size = self.content_size
        return render_model(self.model, size.width, size.height)
