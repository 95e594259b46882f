"""Account panel: balance, the open position, P&L and the sidebet with ticks left."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from rugsd.daemon.control.protocol import AccountInfo
from rugsd.tui.format import is_num, mult, pnl, sol


def render_account(acct: AccountInfo | None, width: int) -> Text:
    """Four short lines (balance, position, P&L, sidebet)."""
    if acct is None:
        return Text("no data yet", style="dim")
    t = Text(no_wrap=True, overflow="ellipsis")
    t.append("balance ", style="grey70")
    t.append(f"{sol(acct.balance_sol)} SOL", style="bold")
    t.append("  equity ", style="grey70")
    t.append(sol(acct.equity_sol))
    t.append("\nposition " if width >= 50 else "\npos ", style="grey70")
    if is_num(acct.qty) and acct.qty > 0:
        t.append(f"{acct.qty:.6f} @ {mult(acct.avg_entry)}", style="bold")
        if acct.entry_tick is not None:
            t.append(f" t{acct.entry_tick}", style="grey62")
        t.append("  value ", style="grey70")
        t.append(sol(acct.value_sol))
    else:
        t.append("flat", style="grey62")
    # session P&L first (what the operator asks), then how it splits: realised / open
    t.append("\nP&L ", style="grey70")
    t.append_text(pnl(acct.session_pnl_sol))
    t.append("  real ", style="grey62")
    t.append_text(pnl(acct.realised_sol))
    t.append("  unreal ", style="grey62")
    t.append_text(pnl(acct.unrealised_sol))
    t.append("\nsidebet ", style="grey70")
    bet = acct.sidebet
    if bet is None:
        t.append("none", style="grey62")
    else:
        t.append(f"{sol(bet.stake_sol)} SOL t{bet.start_tick}→{bet.end_tick} ")
        left = bet.ticks_left
        style = "bold yellow" if is_num(left) and left <= 10 else "bold"
        t.append(f"{left if left is not None else '?'} ticks left", style=style)
    return t


class AccountPanel(Widget):
    """Balance, position, session P&L and the open sidebet."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.account: AccountInfo | None = None
        self.border_title = "account"

    def show(self, account: AccountInfo | None) -> None:
        """Take the account section of a snapshot and redraw."""
        self.account = account
        self.refresh()

    def render(self) -> Text:
        """Draw at the current content width."""
        return render_account(self.account, self.content_size.width)
