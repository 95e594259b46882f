"""The manual of every ``rugsd`` command: what it does and how it is used.

``cli.build_parser`` applies it to each parser: the description becomes the top of
``rugsd CMD --help`` and the examples its last lines, so the help of every command reads
the same way. A test walks the whole command tree and fails on a command without a
description or an example, or an option without help.
"""

from __future__ import annotations

import argparse

# command path -> (description, examples)
MANUAL: dict[str, tuple[str, tuple[str, ...]]] = {
    "": (
        ("Rugs.fun trading daemon with a safety shell: it watches the game feed, runs the\n"
        "model on every tick, passes every intent through the risk limits, trades (paper\n"
        "by default) and journals every decision. `rugsd COMMAND --help` for each command."),
        ("rugsd run", "rugsd status", "rugsd kill", "rugsd tui"),
    ),
    "run": (
        ("Run the trading daemon in the foreground until Ctrl-C (an open position is sold\n"
        "first; a second Ctrl-C stops at once). Modes:\n"
        "  paper (default)        fills computed by rugsd at the feed's prices; no money moves.\n"
        "                         Without --feed it uses (or starts) the local simulator.\n"
        "  --executor browser     every order is clicked on the venue page in Chromium and\n"
        "                         filled by the venue (the simulator's page unless --feed).\n"
        "  --live                 real SOL on the real site through the browser; needs\n"
        "                         live.enabled = true, `rugsd login` once, and typing LIVE (or\n"
        "                         --yes-i-mean-it); refuses when `rugsd browser check` fails.\n"
        "On a terminal it prints a start banner, one line per order and fill and one line per\n"
        "game (P&L, balance, refusals by reason); JSON lines when piped or with --log-format json."),
        ("rugsd run", "rugsd run --data-dir /tmp/paper1 --log-format json > run.log",
         "rugsd run --executor browser", "rugsd run --live"),
    ),
    "sim": (
        ("Run the local Rugs.fun simulator (Socket.IO feed, a practice page, provably fair\n"
        "seeds) on loopback, for paper runs and tests."),
        ("rugsd sim --port 8770 --speed 10", "rugsd sim --seed 7"),
    ),
    "verify": (
        ("Recompute a finished game from its revealed server seed: every price up to the rug,\n"
        "the rug tick and the peak; with --hash, check that sha256(seed) equals the hash\n"
        "published before the game (exit 1 if not). A malformed seed or game id is refused\n"
        "in one line (exit 2)."),
        (("rugsd verify e2896666bec952ac4dbc65d73e1d08dcd5da597137dcf6255f23cd67db9dcd7c "
         "20251207-1e01ac417e8043ca"),
         "rugsd verify SEED GAME_ID --hash SHA256 --json"),
    ),
    "audit": (
        ("Check that every game of recordings (or of a daemon's journal) kept its\n"
        "provably-fair commitment, and measure the house edge against the published rules.\n"
        "Exit 1 when a game broke its commitment."),
        ("rugsd audit ~/recordings", "rugsd audit --data-dir ~/.local/share/rugsd --plots out/"),
    ),
    "record": (
        ("Capture a game feed to disk (the simulator by default, --real for the venue), or\n"
        "convert recordings to the Parquet dataset (--to-parquet)."),
        ("rugsd record --duration 600", "rugsd record --real --out ~/recordings",
         "rugsd record --to-parquet ~/recordings --out dataset/"),
    ),
    "replay": (
        ("Play recordings through the daemon's own decision core (paper fills, this config's\n"
        "[risk]) and journal it; prints files and lines read, games (complete / incomplete /\n"
        "skipped), orders, fills, P&L, refusals by reason and the decision-log hash."),
        ("rugsd replay ~/recordings --data-dir /tmp/replay1",
         "rugsd replay game.jsonl --strategy presale_target --json | jq .summary"),
    ),
    "report": (
        ("P&L, ROI, win rate, trades, games (complete / incomplete / skipped), refusals by\n"
        "reason, risk events and the fairness section, from DATA_DIR's journal and dataset."),
        ("rugsd report", "rugsd report --since 2h", "rugsd report --json --data-dir /tmp/replay1"),
    ),
    "export": (
        ("Bring DATA_DIR/dataset/*/day-YYYY-MM-DD.parquet up to date with the journal (safe\n"
        "while the daemon runs)."),
        ("rugsd export", "rugsd export --since 1d --json"),
    ),
    "compact": (
        ("Export the days older than journal.retention_days, delete their decisions and ticks\n"
        "from the journal and reclaim the space (the daemon must be stopped)."),
        ("rugsd compact", "rugsd compact --data-dir /tmp/paper1 --json"),
    ),
    "kill": (
        ("Kill switch: every running daemon (or the one on --data-dir) goes KILLED before its\n"
        "next decision: it sells an open position, sends no new order, and stays KILLED\n"
        "(latched on disk, across restarts) until `rugsd arm`. The daemon keeps running."),
        ("rugsd kill", "rugsd kill --data-dir /tmp/paper1 --reason 'odd fills'"),
    ),
    "arm": (
        ("Clear the kill latch after a kill (asks for a confirmation code; --yes skips it for\n"
        "unattended use): the daemon may trade again."),
        ("rugsd arm", "rugsd arm --data-dir /tmp/paper1 --yes"),
    ),
    "pause": (
        "Stop sending orders (HALTED by the operator) until `rugsd resume`; positions are kept.",
        ("rugsd pause", "rugsd pause --data-dir /tmp/paper1 --json"),
    ),
    "resume": (
        ("Clear an operator pause, a flatten, an execution-error hold or a venue-integrity\n"
        "halt (not a kill: that is `rugsd arm`)."),
        ("rugsd resume",),
    ),
    "flatten": (
        "Sell everything now, then stay REDUCING (exits only) until `rugsd resume`.",
        ("rugsd flatten",),
    ),
    "status": (
        ("The running daemon's state, account, limits and last decisions; when it is not\n"
        "running, the kill latch and the journal's last state (exit 3)."),
        ("rugsd status", "rugsd status --json | jq .account"),
    ),
    "tui": (
        ("The operator's screen: chart, state, position, P&L, limits, model and decisions of a\n"
        "running daemon, with keys to kill, pause, resume and flatten."),
        ("rugsd tui", "rugsd tui --web --port 8767"),
    ),
    "config": (
        "Show the effective configuration (file, RUGSD_* environment, defaults).",
        ("rugsd config show", "rugsd config show --json"),
    ),
    "config show": (
        ("Print the effective configuration and where it came from (TOML, or one JSON object\n"
        "with --json)."),
        ("rugsd config show", "rugsd --config my.toml config show --json"),
    ),
    "login": (
        ("Open a visible Chromium on the venue with rugsd's persistent browser profile\n"
        "(DATA_DIR/browser-profile) so that a person logs in once; `rugsd run --live` and\n"
        "`rugsd browser check` reuse that session. Close the window (or Ctrl-C) when done.\n"
         "Needs a display: without one it refuses in one line."),
        ("rugsd login", "rugsd login --url https://rugs.fun"),
    ),
    "browser": (
        ("Browser tools for live trading: `rugsd browser check` resolves every control of the\n"
        "venue page without clicking (the preflight of `rugsd run --live`)."),
        ("rugsd browser check", "rugsd browser check --json"),
    ),
    "browser check": (
        ("Open the venue page in the browser profile and resolve every control of the\n"
        "selector map without clicking. Exit 0 when each resolves to exactly one visible\n"
        "element with the expected text, 1 when any does not, 2 when the page cannot open."),
        ("rugsd browser check", "rugsd browser check --url http://127.0.0.1:8770 --json"),
    ),
    "record-human": (
        ("Record a person trading on the venue page (their clicks with the feed), as\n"
        "demonstrations for `rugsd retrain --human-demos`."),
        ("rugsd record-human --duration 1800",),
    ),
    "retrain": (
        ("Retrain overnight: dataset from the journal and real recordings -> sidebet model ->\n"
        "policy (behaviour cloning, then PPO) -> held-out evaluation on the daemon's path ->\n"
        "promote or reject. Writes MODELS_DIR/<version>/ with report.md and plots; the\n"
        "current bundle stays unless the candidate passes the gate. Exit 0 on promotion or\n"
        "an honest rejection, 1 on failure, 2 when there is no real game to train on."),
        ("rugsd retrain", "rugsd retrain --max-minutes 20 --recordings ~/recordings",
         "rugsd retrain --allow-sim-only --max-minutes 5"),
    ),
    "models": (
        ("List the model bundles, promote one to current, or roll back to the previous one\n"
        "(a running daemon picks the change up between games)."),
        ("rugsd models list", "rugsd models promote v20261205-210636", "rugsd models rollback"),
    ),
    "evaluate": (
        ("Replay a bundle and the baselines (never, random, rule) over recordings on `rugsd\n"
        "replay`'s own path and config: P&L with a 95 % CI, refusals by reason, exits and\n"
        "games (complete / incomplete / skipped) per strategy."),
        ("rugsd evaluate models/current ~/recordings",
         "rugsd evaluate models/current ~/recordings --json --scales"),
    ),
}


def apply_manual(parser: argparse.ArgumentParser, path: str = "") -> None:
    """Give ``parser`` and its sub-commands their manual text and examples."""
    entry = MANUAL.get(path)
    if entry is not None:
        description, examples = entry
        parser.description = description
        parser.epilog = "examples:\n" + "\n".join(f"  {e}" for e in examples)
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                apply_manual(sub, f"{path} {name}".strip())
