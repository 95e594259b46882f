"""The promotion rule, as one pure function (the pipeline and the tests share it).

- A candidate with a blocking alarm (no position opened, one action > 80 % of non-wait
  decisions, training reward up while held-out ROI down, leakage) is never promoted.
- With a current bundle: promoted only if its paired per-game P&L beats the current
  bundle AND every baseline (never trade, random, rule-based) with the 95 % CI
  excluding zero.
- Without a current bundle (first run): promoted as a *bootstrap* bundle if it passes
  the alarms and is not significantly worse than the rule-based strategy (paired CI
  upper bound ≥ 0) — so ``strategy.name = "onnx"`` works out of the box — and the
  reason states plainly whether it beat never-trading (it is not expected to).
"""

from __future__ import annotations

RULE = " ".join(__doc__.split("\n\n", 1)[1].split()) if __doc__ else ""


def decide(*, blocking: list[str], comparisons: dict[str, dict], first: bool,
           vs_rule: dict) -> tuple[bool, str]:
    """(promoted, reason). ``comparisons`` by baseline name (``compare`` results, which
    include ``current`` when a current bundle exists); ``vs_rule`` the candidate minus
    the rule-based strategy."""
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
    if vs_rule["ci95"][1] < 0:
        return False, "first bundle, but significantly worse than the rule-based strategy"
    never = comparisons.get("never", {}).get("beats", False)
    return True, ("first bundle: promoted as bootstrap (passes every alarm, not significantly "
                  "worse than the rule-based strategy); it "
                  + ("beats" if never else "does NOT beat") + " never-trading on held-out games")
