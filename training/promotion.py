"""The promotion rule, as one pure function (the pipeline and the tests share it).

- A candidate with a blocking alarm (no position opened, one action > 80 % of non-wait
  decisions, more than 5 % of its non-wait intents refused by the risk gate under the
  daemon's [risk], most positions lost to the rug, more than 10 orders per game, an
  action distribution that moves with the account size, training reward up while the
  ROI went down, leakage) is never promoted.
- All figures are the held-out REAL games replayed on the daemon's path (its config,
  its risk limits); simulated games are reported apart and never decide.
- With a current bundle: promoted only if its paired per-game P&L beats the current
  bundle AND every baseline (never trade, random, rule-based) with the 95 % CI
  excluding zero.
- Without a current bundle (first run): promoted as a *bootstrap* bundle if it passes
  the alarms and is not significantly worse than never trading (paired CI upper bound
  ≥ 0) — a policy that loses money for sure is never the default — and the reason
  states plainly whether it beat never-trading (it is not expected to).
"""

from __future__ import annotations

RULE = " ".join(__doc__.split("\n\n", 1)[1].split()) if __doc__ else ""


def decide(*, blocking: list[str], comparisons: dict[str, dict], first: bool) -> tuple[bool, str]:
    """(promoted, reason). ``comparisons`` by baseline name (``compare`` results of the
    candidate minus each baseline; ``current`` when a current bundle exists)."""
    if blocking:
        return False, f"blocked by alarms: {'; '.join(blocking)}"
    if not first:
        if "current" not in comparisons:
            return False, "no comparison with the current bundle: refusing to promote"
        losers = [name for name, c in comparisons.items() if not c["beats"]]
        if not losers:
            return True, "beats the current bundle and every baseline by more than the 95 % CI"
        return False, ("does not beat " + ", ".join(losers) + " by more than the 95 % CI: "
                       "the current bundle stays")
    never = comparisons.get("never")
    if never is None:
        return False, "first bundle, but no comparison with never trading: refusing to promote"
    if never["ci95"][1] < 0:
        return False, ("first bundle, but significantly worse than never trading on held-out "
                       f"real games (paired CI [{never['ci95'][0]:+.6f}, "
                       f"{never['ci95'][1]:+.6f}] SOL/game)")
    return True, ("first bundle: promoted as bootstrap (passes every alarm, not significantly "
                  "worse than never trading on held-out real games); it "
                  + ("beats" if never["beats"] else "does NOT beat")
                  + " never-trading")
