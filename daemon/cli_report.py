"""``rugsd report [--data-dir DIR] [--json] [--since ISO|duration] [--plots DIR]``.

Prints performance and safety figures from the journal and the Parquet day files (see
``rugsd.daemon.journal.report`` for the JSON keys), then the fairness section (the
house-edge meter); ``--plots`` also writes its survival plot (needs matplotlib, in the
train extra). An unreadable Parquet file is skipped with one warning line on stderr
naming it. Exit codes: 0 on success (also for an empty journal, with a clear message), 1
for a missing data dir, an unreadable journal or a bad ``--since``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from rugsd.daemon.audit.fairness import write_survival_plot
from rugsd.daemon.audit.journal_facts import facts_in
from rugsd.daemon.audit.render import render_fairness
from rugsd.daemon.config import ConfigError, load_settings
from rugsd.daemon.journal.report import ReportError, build_report, iso, parse_since


def add_parser(subparsers: Any) -> None:
    """Register the ``report`` sub-command."""
    p = subparsers.add_parser(
        "report",
        help="P&L, trades, sidebets, refusals and risk events from the journal",
        description="Report performance and safety figures from DATA_DIR/journal.sqlite "
        "and the Parquet dataset.",
    )
    p.add_argument("--data-dir", type=Path, default=None, help="data dir (default: config)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--since", default=None, help="only activity since an ISO time or a duration (2h, 1d)"
    )
    p.add_argument("--plots", type=Path, default=None, metavar="DIR",
                   help="write the fairness survival plot here (needs the train extra)")
    p.set_defaults(func=run_report)


def data_dir_arg(args: argparse.Namespace) -> Path:
    """``--data-dir``, else the configured data dir."""
    if args.data_dir is not None:
        return Path(args.data_dir)
    return load_settings().general.data_dir


def run_report(args: argparse.Namespace) -> int:
    """Build and print the report; returns the exit code."""
    try:
        data_dir = data_dir_arg(args)
        since_ms = (
            parse_since(args.since, int(time.time() * 1000)) if args.since is not None else None
        )
        report = build_report(data_dir, since_ms)
    except (ReportError, ValueError, ConfigError) as exc:
        sys.stderr.write(f"error: {exc}\n")  # one line, never wrapped
        return 1
    for warning in report.get("warnings", []):
        sys.stderr.write(f"warning: {warning}\n")
    plots = getattr(args, "plots", None)
    if plots is not None:
        path, note = write_survival_plot(facts_in(data_dir, since_ms), plots)
        report["fairness"].update(plot=str(path) if path else None, plot_note=note)
    if args.json:
        sys.stdout.write(json.dumps(report, sort_keys=True) + "\n")
        return 0
    console = Console()
    render_text(report, console, data_dir)
    render_fairness(report["fairness"], console)
    if plots is not None:
        console.print(report["fairness"]["plot_note"])
    return 0


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:+.1%}" if x < 0 or x > 0 else "0.0%"


def _kv_table(title: str, rows: dict[str, Any]) -> Table:
    table = Table(title=title, title_justify="left", show_header=False, box=None, min_width=48)
    table.add_column(style="bold")
    table.add_column(justify="right")
    for k, v in rows.items():
        table.add_row(str(k), str(v))
    return table


def render_text(report: dict[str, Any], console: Console, data_dir: Path) -> None:
    """A compact human-readable report."""
    window = report["window"]
    since = f" since {window['since']}" if window["since"] else ""
    if report["empty"]:
        if since:
            console.print(f"No journal activity in {data_dir}{since}.")
        else:
            console.print(f"Journal in {data_dir} is empty: no runs, decisions or fills yet.")
        return
    console.print(
        f"[bold]rugsd report[/bold] {data_dir}{since} "
        f"({iso(window['first_ts_ms'])} … {iso(window['last_ts_ms'])})"
    )
    t, s, g = report["trades"], report["sidebets"], report["games"]
    console.print(
        _kv_table(
            "Summary",
            {
                "realised P&L": f"{report['pnl_sol']:+.6f} SOL",
                "  trading / sidebets": f"{report['trading_pnl_sol']:+.6f} / {s['pnl_sol']:+.6f}",
                "staked": f"{report['staked_sol']:.6f} SOL",
                "ROI": _pct(report["roi"]),
                "win rate (games)": _pct(report["win_rate"]).lstrip("+"),
                "games seen / traded": f"{g['seen']} / {g['traded']} (won {g['won']})",
                "  complete / incomplete / skipped": (
                    f"{g['complete']} / {g['incomplete']} / {g['skipped']}"),
                "trades buy / sell / rug": f"{t['buys']} / {t['sells']} / {t['rug_sells']}",
                "exits sold / rugged (games)": (
                    f"{report['exits']['sold']} / {report['exits']['rugged']}"),
                "sidebets placed / won / lost": f"{s['placed']} / {s['won']} / {s['lost']}",
                "orders": ", ".join(f"{k} {v}" for k, v in report["orders"].items()) or "none",
            },
        )
    )
    console.print(_kv_table("Actions", report["action_distribution"] or {"none": 0}))
    if report["refusals_by_reason"]:
        console.print(_kv_table("Refusals by reason", report["refusals_by_reason"]))
    risk = report["risk_events"]
    if risk["count"]:
        console.print(_kv_table("Risk state changes", risk["by_transition"]))
    if report["kill_events"]:
        console.print(
            _kv_table(
                "Kill events",
                {iso(k["ts_ms"]): f"{k['source']}: {k['reason']}" for k in report["kill_events"]},
            )
        )
    runs = Table(title="Runs", title_justify="left", box=None, padding=(0, 1))
    numeric = ("decisions", "games", "trades", "P&L SOL")
    runs.add_column("run", overflow="fold")  # long ids wrap, never truncate
    for col in ("started", "mode", *numeric):
        runs.add_column(col, no_wrap=True, justify="right" if col in numeric else "left")
    for r in report["runs"]:
        started = (r["started"] or "?")[5:16].replace("T", " ")  # MM-DD HH:MM
        runs.add_row(
            r["run_id"], started, r["mode"] or "?", str(r["decisions"]),
            f"{r['games']['traded']}/{r['games']['seen']}", str(r["trades"]["total"]),
            f"{r['pnl_sol']:+.6f}",
        )  # fmt: skip
    console.print(runs)
    ds = report["dataset"]
    console.print(
        "dataset: "
        + ", ".join(f"{k} {v['rows']} rows in {v['files']} files" for k, v in ds.items())
    )
