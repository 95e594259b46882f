"""Gate rule ``loss_limits`` (a protection: on while listed in ``[risk] protections``): no
entries once a loss limit is breached, nor when the entry's worst case would.
"""

from __future__ import annotations

from rugsd.risk.context import GateContext
from rugsd.risk.reasons import ReasonCode
from rugsd.risk.rules.common import refuse
from rugsd.risk.verdicts import Refusal
from rugsd.strategy.intents import Intent


def check(intent: Intent, ctx: GateContext) -> Refusal | None:
    """No entries once a loss limit is breached, nor when the entry's worst case would."""
    if not intent.is_entry:
        return None
    fig, lim = ctx.figures, ctx.limits
    if fig.daily_loss > lim.max_daily_loss:
        return refuse(intent, ctx, ReasonCode.DAILY_LOSS_LIMIT,
                      f"daily loss {fig.daily_loss} > {lim.max_daily_loss}")
    if fig.drawdown > lim.max_drawdown:
        return refuse(intent, ctx, ReasonCode.DRAWDOWN_LIMIT,
                      f"drawdown {fig.drawdown} > {lim.max_drawdown}")
    worst = ctx.account.balance - intent.amount  # equity if everything open is lost
    if fig.day_start_equity - worst > lim.max_daily_loss:
        loss = fig.day_start_equity - worst
        return refuse(intent, ctx, ReasonCode.LOSS_BUDGET,
                      f"worst-case daily loss {loss} > {lim.max_daily_loss}")
    if fig.peak_equity - worst > lim.max_drawdown:
        return refuse(intent, ctx, ReasonCode.LOSS_BUDGET,
                      f"worst-case drawdown {fig.peak_equity - worst} > {lim.max_drawdown}")
    return None
