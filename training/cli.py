"""Training commands: ``rugsd retrain``, ``rugsd models list|promote|rollback``,
``rugsd evaluate``.

Nothing heavy is imported at module level (``daemon/cli.py`` imports this module for
every command): torch, SB3 and onnx load inside the run functions.

- ``rugsd retrain [--data-dir DIR] [--max-minutes M] [--models-dir DIR]
  [--recordings PATH ...] [--allow-sim-only] [--seed N] [--resume] [--human-demos PATH]``
  — dataset → sidebet model → policy → held-out evaluation → promote or reject; writes
  the bundle and its report into ``MODELS_DIR/<version>/`` and prints where. Real
  recordings come from ``--recordings`` or ``[training] recordings``; with no real game
  it refuses in one line (exit 2) unless ``--allow-sim-only``. Exit 0 on promotion or an
  honest rejection (the current bundle stays), 1 on failure.
- ``rugsd models list|promote VERSION|rollback [--models-dir DIR]``.
- ``rugsd evaluate BUNDLE_DIR PATH... [--json] [--balance SOL] [--scales]`` — the bundle
  and the baselines replayed over the recordings on ``rugsd replay``'s own path (same
  configuration, same run ids: the same decision log, P&L, refusals and exits).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rugsd.daemon.config import load_settings


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``retrain``, ``models`` and ``evaluate``."""
    p = sub.add_parser("retrain", help="retrain the models and promote or reject them",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", type=Path, help="data folder (default: general.data_dir)")
    p.add_argument("--models-dir", type=Path, help="bundle folder (default: strategy.models_dir)")
    p.add_argument("--max-minutes", type=float, metavar="M",
                   help="wall-clock budget (default [training] max_minutes, 30)")
    p.add_argument("--recordings", type=Path, action="append", metavar="PATH",
                   help="real recordings (file/folder, repeatable; default: [training] "
                        "recordings of the config)")
    p.add_argument("--allow-sim-only", action="store_true",
                   help="train and evaluate on simulated games when there is no real game "
                        "(the report says so in its first line; never promoted)")
    p.add_argument("--seed", type=int, default=0,
                   help="random seed of the training run (default 0)")
    p.add_argument("--resume", action="store_true",
                   help="continue PPO from DATA_DIR/training/ppo.zip instead of cloning anew")
    p.add_argument("--human-demos", type=Path, metavar="DIR",
                   help="human demonstrations from `rugsd record --human` (DIR with "
                        "button_events/; default DATA_DIR/dataset when it has them)")
    p.add_argument("--sweep", type=int, metavar="N",
                   help="run N trials on Ray Tune, hyperparameters and seeds drawn from "
                        "[training.sweep]; promote at most the best (needs the sweep extra)")
    p.add_argument("--ray-address", metavar="ADDR",
                   help="with --sweep: the Ray cluster to run on (default: a local Ray)")
    p.set_defaults(func=run_retrain)

    m = sub.add_parser("models", help="list, promote or roll back model bundles")
    m.add_argument("action", choices=("list", "promote", "rollback"),
                   help="list the bundles, promote VERSION to current, or roll back")
    m.add_argument("version", nargs="?", help="bundle version (for promote)")
    m.add_argument("--models-dir", type=Path, help="bundle folder (default: strategy.models_dir)")
    m.add_argument("--data-dir", type=Path, help="unused; accepted for symmetry")
    m.set_defaults(func=run_models)

    e = sub.add_parser("evaluate", help="replay a bundle and the baselines over recordings")
    e.add_argument("bundle", type=Path, metavar="BUNDLE_DIR",
                   help="the model bundle to evaluate (e.g. models/current)")
    e.add_argument("paths", type=Path, nargs="+", metavar="PATH",
                   help="recording files or folders (*.jsonl, *.jsonl.gz)")
    e.add_argument("--json", action="store_true", help="print JSON instead of a table")
    e.add_argument("--balance", type=float, metavar="SOL",
                   help="starting balance (default paper.starting_balance_sol)")
    e.add_argument("--scales", action="store_true",
                   help="also run the bundle at 0.1, 1, 10 and 100 SOL starting balances")
    e.add_argument("--seed", type=int, default=0,
                   help="seed of the random baseline (default 0)")
    e.add_argument("--data-dir", type=Path, help="unused; accepted for symmetry")
    e.set_defaults(func=run_evaluate)


def _fail(cmd: str, message: str, code: int = 1) -> int:
    print(f"rugsd {cmd}: {message}", file=sys.stderr)
    return code


def _quiet_logs(settings) -> None:
    from rugsd.daemon import logs

    level = settings.logging.level if settings.logging.level != "debug" else "info"
    logs.configure(settings.logging.format, "warning" if level == "info" else level,
                   stream=sys.stderr)


class _RichPhases:
    """``rugsd.training.pipeline.Phases`` on a rich progress display, shown from the
    first phase on (a run refused before it prints its one line and nothing else)."""

    def __init__(self, progress) -> None:
        self.progress = progress
        self.tasks: dict[str, int] = {}
        self.started = False

    def start(self, phase: str, total: int) -> None:
        if not self.started:
            self.progress.start()
            self.started = True
        self.tasks[phase] = self.progress.add_task(phase, total=max(total, 1))

    def stop(self) -> None:
        if self.started:
            self.progress.stop()

    def update(self, phase: str, done: int, total: int) -> None:
        task = self.tasks.get(phase)
        if task is not None:
            self.progress.update(task, completed=done, total=max(total, 1))

    def done(self, phase: str) -> None:
        """The phase ended: its bar ends at the count it reached (a budget that stopped PPO
        early shows the steps done, the figure the report gives, not the planned cap)."""
        task = self.tasks.get(phase)
        if task is not None:
            state = self.progress.tasks[self.progress.task_ids.index(task)]
            reached = int(state.completed) or int(state.total or 1)  # no update: all done
            self.progress.update(task, completed=reached, total=reached)


def run_retrain(args: argparse.Namespace) -> int:
    """Retrain; 0 on promotion or honest rejection, 1 on failure, 2 without real games."""
    settings = load_settings()
    _quiet_logs(settings)
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from rugsd.training.pipeline import NoRealGames, RetrainConfig, retrain

    data_dir = args.data_dir or settings.general.data_dir
    models_dir = args.models_dir or settings.strategy.models_dir
    recordings = args.recordings if args.recordings is not None else settings.training.recordings
    minutes = args.max_minutes if args.max_minutes is not None else settings.training.max_minutes
    cfg = RetrainConfig(Path(data_dir), Path(models_dir), [Path(p) for p in recordings],
                        minutes, args.seed, args.resume, args.human_demos,
                        args.allow_sim_only, settings)
    if args.ray_address and not args.sweep:
        return _fail("retrain", "--ray-address needs --sweep N", 2)
    if args.sweep is not None:
        return _run_sweep(cfg, args.sweep, args.ray_address, settings)
    console = Console(stderr=True)
    phases = _RichPhases(Progress(TextColumn("{task.description:<18}"), BarColumn(),
                                  MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                                  transient=False, disable=not console.is_terminal))
    try:
        try:
            outcome = retrain(cfg, phases)
        finally:
            phases.stop()
    except NoRealGames as err:  # before anything was trained or written
        return _fail("retrain", str(err), 2)
    except KeyboardInterrupt:
        raise
    except Exception as err:  # noqa: BLE001 -- a failed run is exit 1 with one line
        import traceback

        traceback.print_exc(file=sys.stderr)
        return _fail("retrain", f"failed: {err}")
    print(outcome.table)
    print()
    state = "PROMOTED" if outcome.promoted else "NOT PROMOTED (current bundle unchanged)"
    print(f"{outcome.version}: {state} — {outcome.reason}")
    print(f"bundle: {outcome.folder}")
    print(f"report: {outcome.report}")
    return 0


def _run_sweep(cfg, n_trials: int, ray_address: str | None, settings) -> int:
    """``retrain --sweep N``: the trials' table, the best, what was promoted."""
    from rugsd.training.pipeline import NoRealGames, check_real_games
    from rugsd.training.sweep import SweepError, format_trials, sweep

    where = f"the Ray cluster at {ray_address}" if ray_address else "a local Ray"
    try:
        check_real_games(cfg)  # refuse in one line before Ray starts
    except NoRealGames as err:
        return _fail("retrain", str(err), 2)
    print(f"sweep: {n_trials} trials of {cfg.max_minutes:g} min each on {where}",
          file=sys.stderr)
    try:
        out = sweep(cfg, n_trials, settings.training.sweep, ray_address=ray_address)
    except (NoRealGames, SweepError) as err:
        return _fail("retrain", str(err), 2)
    except KeyboardInterrupt:
        raise
    except Exception as err:  # noqa: BLE001 -- a failed run is exit 1 with one line
        return _fail("retrain", f"sweep failed: {type(err).__name__}: {err}")
    print(format_trials(out.trials, out.best))
    print()
    state = "PROMOTED" if out.promoted else "NOT PROMOTED (current bundle unchanged)"
    print(f"{out.best['version']}: {state} — {out.reason}")
    print(f"bundle: {out.best['folder']}")
    print(f"report: {out.report}")
    print(f"sweep: {len(out.trials)} trials in {out.seconds / 60:.1f} min")
    return 0


def run_models(args: argparse.Namespace) -> int:
    """``models list|promote|rollback``."""
    from rugsd.training import registry

    models_dir = args.models_dir or load_settings().strategy.models_dir
    try:
        if args.action == "list":
            rows = registry.list_versions(models_dir)
            if not rows:
                from rugsd.strategy.bundle import current_bundle

                print(f"no bundles in {models_dir}; the daemon trades the bundle shipped with "
                      f"the package: {current_bundle(models_dir)} (read-only)")
            for r in rows:
                mark = "*" if r["current"] else " "
                pnl = r["pnl_per_game"]
                pnl_s = f"{pnl:+.6f} SOL/game" if isinstance(pnl, int | float) else "n/a"
                print(f"{mark} {r['version']:<22} created {r['created']}  P&L {pnl_s}  "
                      f"sidebet_usable={r['sidebet_usable']}  promoted={r['promoted']}")
            return 0
        if args.action == "promote":
            if not args.version:
                return _fail("models", "promote needs a VERSION", 2)
            prev = registry.promote(models_dir, args.version, reason="operator")
            print(f"current: {args.version} (was {prev})")
            return 0
        target = registry.rollback(models_dir)
        print(f"current: {target}")
        return 0
    except registry.RegistryError as err:
        return _fail("models", str(err), 2)


def eval_names() -> dict[str, str]:
    """Evaluation row → the strategy name ``rugsd replay --strategy`` uses (its run id):
    the bundle, then every baseline of the strategy registry."""
    from rugsd.strategy.registry import baselines

    return {"bundle": "onnx"} | {spec.baseline: spec.name for spec in baselines()}


def run_evaluate(args: argparse.Namespace) -> int:
    """Replay the bundle and the baselines over the recordings; print the table or JSON."""
    settings = load_settings()
    _quiet_logs(settings)
    from rugsd.daemon.runtime.replay import (
        NothingToReplay,
        recorded_events,
        replay_run_id,
        sources_of,
    )
    from rugsd.strategy.bundle import BundleError, load_bundle
    from rugsd.strategy.onnx_strategy import OnnxStrategy
    from rugsd.strategy.registry import StrategyError, baselines, build_named
    from rugsd.training.evaluate import (
        analytic_row,
        evaluate_strategies,
        format_table,
        scale_check,
    )

    scfg = settings.strategy
    try:
        bundle = load_bundle(args.bundle)
    except BundleError as err:
        return _fail("evaluate", str(err), 2)
    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        return _fail("evaluate", f"no such path: {', '.join(missing)}", 2)
    try:
        sources_of(args.paths)
    except NothingToReplay as err:
        return _fail("evaluate", str(err), 2)

    def events():
        return recorded_events(sources_of(args.paths))

    try:  # the bundle, then every baseline of the strategy registry
        strategies = {"bundle": OnnxStrategy(bundle, scfg)} | {
            spec.baseline: build_named(spec.name, settings, seed=args.seed)
            for spec in baselines()}
    except StrategyError as err:
        return _fail("evaluate", str(err), 2)
    names = eval_names()
    run_ids = {n: replay_run_id(args.paths, names[n]) for n in strategies}
    from rugsd.daemon.progress import progress_bar

    with progress_bar("evaluate bundle") as update:
        counted: dict[str, int] = {}

        def progress(name: str, done: int) -> None:
            if name not in counted:  # the first strategy's games are every run's total
                total = max(counted.values()) if counted else None
                update(description=f"evaluate {name}", completed=0, total=total)
            counted[name] = done
            update(completed=done)

        rows, sessions = evaluate_strategies(strategies, events, settings, run_ids=run_ids,
                                             seed=args.seed, starting_balance_sol=args.balance,
                                             progress=progress)
    if rows["bundle"]["games"] == 0:
        return _fail("evaluate", "no game with a decision in the recordings", 2)
    rows["analytic"] = analytic_row(rows["bundle"])
    scales = None
    if args.scales:
        scales = scale_check(lambda: OnnxStrategy(bundle, scfg), events, settings,
                             run_id=replay_run_id(args.paths, "onnx"))
    balance = args.balance if args.balance is not None else settings.paper.starting_balance_sol
    if args.json:
        out = {"bundle": str(args.bundle), "version": bundle.manifest.version,
               "starting_balance_sol": balance, "games": rows["bundle"]["game_counts"],
               "strategies": rows,
               "per_game": {n: s.played.per_game() for n, s in sessions.items()}}
        if scales is not None:
            out["scales"] = scales
        print(json.dumps(out, indent=2))
        return 0
    g = rows["bundle"]["game_counts"]
    print(f"{bundle.manifest.version} replayed over {g['played']} games ({g['complete']} "
          f"complete, {g['incomplete']} incomplete, {g['skipped']} skipped) from "
          f"{balance:g} SOL, on rugsd replay's path with this config's [risk]\n")
    print(format_table(rows))
    for name in ("bundle", "rule"):
        r = rows[name]
        reasons = ", ".join(f"{k} {v}" for k, v in r["orders_refused"].items()) or "none"
        print(f"{name}: {r['non_wait_intents']} non-wait intents, refused "
              f"{100 * r['refused_share']:.1f} % ({reasons}); exits {r['exits']['sold']} sold, "
              f"{r['exits']['rugged']} rugged; decision log sha256 {r['decision_log_sha256']}")
    if scales is not None:
        print(f"\naccount size: action distributions at {', '.join(scales['balances'])} SOL "
              f"differ by at most {scales['max_tv']:.4f} (total variation)")
    return 0
