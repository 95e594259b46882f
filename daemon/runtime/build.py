"""Assemble a decision core from the configuration (shared by run, replay and backtests)."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

from rugsd.daemon.config import ROOT_DIR, Settings
from rugsd.daemon.core.decision import CoreSettings, DecisionCore
from rugsd.daemon.game.accounting import Account, open_account, sol_to_lamports
from rugsd.daemon.journal.records import RunStarted
from rugsd.daemon.state.plausibility import PriceLimits
from rugsd.risk.context import RiskLimits, SessionFigures
from rugsd.risk.rules import rules_for
from rugsd.risk.states import RiskState
from rugsd.strategy.base import Strategy
from rugsd.strategy.features import schema_hash
from rugsd.strategy.registry import build_strategy


def git_commit() -> str:
    """The checkout's commit (empty when not a git checkout)."""
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT_DIR), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, timeout=2, check=False,
        )
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def bundle_version(strategy: Strategy) -> str:
    """The model bundle version behind a strategy ("" for rule strategies)."""
    bundle = getattr(strategy, "bundle", None)
    manifest = getattr(bundle, "manifest", None)
    return str(getattr(manifest, "version", "")) if manifest is not None else ""


def make_core(
    settings: Settings,
    *,
    run_id: str,
    order_prefix: str,
    strategy: Strategy | None = None,
    account: Account | None = None,
    risk: RiskState | None = None,
    figures: SessionFigures | None = None,
    external_fills: bool = False,
    order_seq: int = 0,
    exposure_game: str | None = None,
    hold_orders: bool = False,
) -> DecisionCore:
    """A ``DecisionCore`` wired from ``settings``: paper fills, or ``external_fills``
    reported by an executor (browser). ``hold_orders``: paper orders wait for the shell's
    ``ReleaseOrder`` (the daemon releases each once its intent is journaled)."""
    strategy = strategy if strategy is not None else build_strategy(settings)
    limits = RiskLimits.from_config(settings.risk)
    rules_for(limits.protections)  # an unknown rule fails here (RuleError), not at an order
    cfg = CoreSettings(
        run_id=run_id,
        limits=limits,
        order_prefix=order_prefix,
        paper_latency_ms=None if external_fills else settings.paper.latency_ms,
        stale_after_ms=int(settings.feed.stale_after_s * 1000),
        keep_features=settings.journal.decisions_keep_features,
        on_mismatch=settings.audit.on_mismatch,
        hold_orders=hold_orders,
        plausibility=PriceLimits.from_config(settings.plausibility, settings.feed.stale_after_s),
    )
    if account is None:
        account = open_account(sol_to_lamports(settings.paper.starting_balance_sol))
    return DecisionCore(
        strategy, cfg, account, risk=risk, figures=figures, order_seq=order_seq,
        exposure_game=exposure_game,
    )


def run_started(settings: Settings, core: DecisionCore, mode: str, ts_ms: int) -> RunStarted:
    """The journal's record of this run."""
    return RunStarted(
        run_id=core.cfg.run_id,
        started_ts_ms=ts_ms,
        mode=mode,
        strategy=core.strategy.name,
        bundle_version=bundle_version(core.strategy),
        feature_schema_hash=schema_hash(),
        config_json=settings.model_dump_json(),
        git_commit=git_commit(),
    )


def stable_id(*parts: object) -> str:
    """A short deterministic id from its parts (replay run ids)."""
    blob = json.dumps([str(p) for p in parts]).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


def data_dir_of(settings: Settings, override: str | Path | None) -> Path:
    """The data dir: ``--data-dir`` or the configured one."""
    return Path(override) if override else Path(settings.general.data_dir)
