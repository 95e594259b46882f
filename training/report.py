"""The retrain report: Markdown plus PNG plots (matplotlib, Agg) in the bundle folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from rugsd.daemon.config import Settings
from rugsd.strategy.actions import ACTION_NAMES
from rugsd.training.backtest import GameResult
from rugsd.training.evaluate import format_table
from rugsd.training.heldout import Judgement
from rugsd.training.report_tables import data_table, kv_table, survival_plot


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
    ax.set_xlabel("held-out real game")
    ax.set_ylabel("cumulative P&L (SOL)")
    ax.set_title("Equity on held-out real games (daemon path)")
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


def _risk_line(settings: Settings) -> str:
    r = settings.risk
    return (f"max_bet {r.max_bet_sol:g} SOL, max_position {r.max_position_sol:g} SOL, "
            f"max_exposure {r.max_exposure_sol:g} SOL, reserve {r.min_balance_reserve_sol:g} "
            f"SOL, {r.max_orders_per_minute} orders/min, {r.max_sidebets_per_game} sidebet(s)/"
            f"game, daily loss {r.max_daily_loss_sol:g} SOL, drawdown {r.max_drawdown_sol:g} "
            f"SOL, entries in {'/'.join(r.entry_phases)} ticks {r.entry_min_tick}-"
            f"{r.entry_max_tick}, presale cut-off {r.presale_cutoff_ms} ms")


def _behaviour(rows: dict[str, dict]) -> list[str]:
    lines = [("| strategy | non-wait intents | refused | by reason | orders/game | exits sold / "
             "rugged | games complete / incomplete |"), "|---|---|---|---|---|---|---|"]
    for name, r in rows.items():
        if "refused_share" not in r:
            continue
        reasons = ", ".join(f"{k} {v}" for k, v in r["orders_refused"].items()) or "none"
        g = r["game_counts"]
        lines.append(f"| {name} | {r['non_wait_intents']} | {100 * r['refused_share']:.1f} % | "
                     f"{reasons} | {r['orders_per_game']:.2f} | {r['exits']['sold']} / "
                     f"{r['exits']['rugged']} | {g['complete']} / {g['incomplete']} |")
    return lines


def _scale(scale: dict) -> list[str]:
    lines = ["| starting balance (SOL) | P&L total (SOL) | refused | " +
             " | ".join(ACTION_NAMES) + " |", "|---" * (3 + len(ACTION_NAMES)) + "|"]
    for bal, r in scale["balances"].items():
        dist = r["action_distribution"]
        lines.append(f"| {bal} | {r['pnl_total']:+.6f} | {100 * r['refused_share']:.1f} % | "
                     + " | ".join(f"{100 * dist.get(a, 0):.2f} %" for a in ACTION_NAMES) + " |")
    lines += ["", (f"Largest total-variation distance between two of these action distributions: "
                  f"**{scale['max_tv']:.4f}** (blocking above 0.05).")]
    return lines


def write_report(folder: Path, *, version: str, verdict: Judgement, sidebet: dict,
                 promotion: dict, leakage: dict, training: dict, data_range: dict,
                 settings: Settings) -> Path:
    """Write ``report.md`` (+ plots) into ``folder``; returns the report path."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = verdict.real_rows
    results = {n: s.results for n, s in verdict.real_sessions.items()}
    plots = _plots(folder, results, sidebet, rows)
    # the held-out real games the core saw whole: their active ticks are their rug ticks
    survival = survival_plot(folder, [r.ticks for r in results.get("candidate", [])
                                      if r.klass == "complete"])
    if survival is not None:
        plots.append(survival)
    sb = {k: v for k, v in sidebet.items() if k != "calibration"}
    status = "PROMOTED" if promotion.get("promoted") else "NOT PROMOTED"
    sim_only = promotion.get("sim_only")
    title = f"# rugsd retrain report — {version}"
    if sim_only:
        title += (" — SIMULATED GAMES ONLY (--allow-sim-only): no real game was used; "
                  "these figures say nothing about the real venue")
    held = data_range.get("heldout", {})
    real_n = held.get("by_source", {}).get("recording", 0) + held.get("by_source", {}).get(
        "dataset", 0)
    lines = [
        title,
        "",
        f"**Decision: {status}.** {promotion.get('reason', '')}",
        "",
        (f"Candidate judged: **{verdict.chosen}** (chosen on the validation split, never on "
        "the held-out games)."),
        "",
        "The game has a constant rug hazard (0.5 %/tick) and a negative expectation per",
        "tick held, so the question is whether anything beats *never trading* by more than",
        "the noise. Every figure below is the daemon's own path: the held-out games are",
        "replayed through `rugsd replay`'s `play()` on a decision core built from the",
        "daemon's configuration — the event stream at its real cadence (recorded games",
        "replay their recorded events; one session per strategy), paper fills with",
        (f"{settings.paper.latency_ms} ms latency, a {settings.paper.starting_balance_sol:g} SOL "
        "starting balance and the `[risk]` limits:"),
        f"{_risk_line(settings)}. So `rugsd replay` of the same games with the same",
        "strategy prints the same P&L, refusals and exits (same decision-log SHA-256).",
        "SOL per played game, bootstrap 95 % CIs resampling games.",
        "",
        f"## Held-out REAL games ({real_n} games, the newest by time; the gate)",
        "",
        "```",
        format_table(rows),
        "```",
        "",
        *_behaviour(rows),
        "",
        "Paired per-game P&L difference, candidate minus baseline (held-out real games):",
        "",
        "| vs | diff / game (SOL) | 95 % CI | beats |",
        "|---|---|---|---|",
    ]
    for name, c in verdict.comparisons.items():
        lines.append(f"| {name} | {c['diff_per_game']:+.6f} | [{c['ci95'][0]:+.6f}, "
                     f"{c['ci95'][1]:+.6f}] | {'yes' if c['beats'] else 'no'} |")
    lines += [
        "",
        "![equity](equity.png)",
        "",
        "![actions](actions.png)",
        "",
        "## Account size (held-out real games, the candidate at other starting balances)",
        "",
        *_scale(verdict.scale),
        "",
        "## Alarms",
        "",
        *([f"- **{a}**" for a in verdict.alarms] or ["- none"]),
        "",
        f"Leakage checks: `{json.dumps(leakage)}`",
        "",
        "## Validation (the candidate choice)",
        "",
        "```",
        format_table(verdict.validation) if verdict.validation else "no validation games",
        "```",
        "",
        f"Alarms on validation: `{json.dumps(verdict.all_alarms.get('validation', {}))}`",
        "",
        (f"## Held-out SIMULATED games (reported apart; seed {promotion.get('eval_sim_seed')}, "
        "new every retrain)"),
        "",
        "```",
        format_table(verdict.sim_rows) if verdict.sim_rows else "none",
        "```",
        "",
        "## Sidebet model",
        "",
        f"**{sidebet.get('verdict', '')}**",
        "",
        *kv_table({k: v for k, v in sb.items() if k != "verdict"}),
        "",
        "![calibration](calibration.png)",
        "",
        *([f"![survival]({survival})", "",
           "Observed rug survival of the complete held-out games against the committed",
           "geometric law (0.5 %/tick): the game the models are trained for.", ""]
          if survival else []),
        "## Training",
        "",
        *kv_table(training),
        "",
        "## Data",
        "",
        *data_table(data_range),
        "",
        f"Plots: {', '.join(plots)}",
        "",
    ]
    path = folder / "report.md"
    path.write_text("\n".join(lines))
    return path
