"""The retrain report: Markdown plus PNG plots (matplotlib, Agg) in the bundle folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from rugsd.training.backtest import GameResult
from rugsd.training.evaluate import format_table


def _plots(folder: Path, results: dict[str, list[GameResult]], sidebet: dict,
           rows: dict[str, dict]) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = []
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for name, res in results.items():
        curve = np.cumsum([r.pnl for r in res]) / 1e9
        ax.plot(curve, label=name, lw=1.4 if name == "candidate" else 0.9)
    if "candidate" in results:
        null = np.cumsum([r.null_ev for r in results["candidate"]]) / 1e9
        ax.plot(null, "k--", lw=0.8, label="null model (candidate exposure)")
    ax.set_xlabel("held-out game")
    ax.set_ylabel("cumulative P&L (SOL)")
    ax.set_title("Equity on held-out games")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(folder / "equity.png", dpi=90)
    plt.close(fig)
    files.append("equity.png")

    cal = sidebet.get("calibration") or []
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], "k:", lw=0.8, label="perfect")
    if cal:
        ax.plot([c["p_mean"] for c in cal], [c["rate"] for c in cal], "o-", label="model")
    base = sidebet.get("baseline_p", 0.182)
    ax.axhline(base, color="grey", lw=0.8, ls="--", label=f"constant hazard {base:.3f}")
    ax.set_xlabel("predicted P(rug within 40 ticks)")
    ax.set_ylabel("observed rate")
    ax.set_title("Sidebet calibration (held-out)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(folder / "calibration.png", dpi=90)
    plt.close(fig)
    files.append("calibration.png")

    fig, ax = plt.subplots(figsize=(8, 4))
    names = [n for n in rows if rows[n].get("action_distribution")]
    if names:
        actions = list(rows[names[0]]["action_distribution"])
        width = 0.8 / len(names)
        for k, n in enumerate(names):
            dist = rows[n]["action_distribution"]
            ax.bar(np.arange(len(actions)) + k * width, [dist.get(a, 0) for a in actions],
                   width, label=n)
        ax.set_xticks(np.arange(len(actions)) + 0.4 - width / 2, actions, rotation=30,
                      fontsize=8)
        ax.set_yscale("log")
        ax.set_ylabel("share of decisions")
        ax.legend(fontsize=8)
    ax.set_title("Action distribution (held-out)")
    fig.tight_layout()
    fig.savefig(folder / "actions.png", dpi=90)
    plt.close(fig)
    files.append("actions.png")
    return files


def write_report(folder: Path, *, version: str, rows: dict[str, dict],
                 results: dict[str, list[GameResult]], comparisons: dict[str, dict],
                 sidebet: dict, promotion: dict, alarms: list[str], leakage: dict,
                 training: dict, data_range: dict) -> Path:
    """Write ``report.md`` (+ plots) into ``folder``; returns the report path."""
    folder.mkdir(parents=True, exist_ok=True)
    plots = _plots(folder, results, sidebet, rows)
    sb = {k: v for k, v in sidebet.items() if k != "calibration"}
    verdict = "PROMOTED" if promotion.get("promoted") else "NOT PROMOTED"
    lines = [
        f"# rugsd retrain report — {version}",
        "",
        f"**Decision: {verdict}.** {promotion.get('reason', '')}",
        "",
        "The game has a constant rug hazard (0.5 %/tick) and a negative expectation per",
        "tick held, so the question is whether anything beats *never trading* by more than",
        "the noise. All figures are on held-out games only (split by time/game), backtested",
        "through the daemon's own decision core with paper fills. SOL per game, bootstrap",
        "95 % CIs resampling games.",
        "",
        "## Evaluation (held-out)",
        "",
        "```",
        format_table(rows),
        "```",
        "",
        "Paired per-game P&L difference, candidate minus baseline:",
        "",
        "| vs | diff / game (SOL) | 95 % CI | beats |",
        "|---|---|---|---|",
    ]
    for name, c in comparisons.items():
        lines.append(f"| {name} | {c['diff_per_game']:+.6f} | [{c['ci95'][0]:+.6f}, "
                     f"{c['ci95'][1]:+.6f}] | {'yes' if c['beats'] else 'no'} |")
    lines += [
        "",
        "![equity](equity.png)",
        "",
        "![actions](actions.png)",
        "",
        "## Alarms",
        "",
        *([f"- **{a}**" for a in alarms] or ["- none"]),
        "",
        f"Leakage checks: `{json.dumps(leakage)}`",
        "",
        "## Sidebet model",
        "",
        f"**{sidebet.get('verdict', '')}**",
        "",
        "```",
        json.dumps(sb, indent=2),
        "```",
        "",
        "![calibration](calibration.png)",
        "",
        "## Training",
        "",
        "```",
        json.dumps(training, indent=2, default=str),
        "```",
        "",
        "## Data",
        "",
        "```",
        json.dumps(data_range, indent=2, default=str),
        "```",
        "",
        f"Plots: {', '.join(plots)}",
        "",
    ]
    path = folder / "report.md"
    path.write_text("\n".join(lines))
    return path
