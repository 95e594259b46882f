"""Build the strategy named in ``Settings.strategy.name``."""

from __future__ import annotations

from pathlib import Path

from rugsd.daemon.config import Settings
from rugsd.strategy.base import Strategy
from rugsd.strategy.rules import NeverStrategy, PresaleTargetStrategy

STRATEGY_NAMES: tuple[str, ...] = ("onnx", "presale_target", "never")


class StrategyError(Exception):
    """The configured strategy cannot be built; the message is one line saying why."""


def build_strategy(settings: Settings, bundle_dir: str | Path | None = None) -> Strategy:
    """The configured strategy; "onnx" loads ``bundle_dir`` or ``models_dir/current``, and
    without a ``current`` there the default bundle shipped with the package."""
    cfg = settings.strategy
    if cfg.name == "never":
        return NeverStrategy()
    if cfg.name == "presale_target":
        return PresaleTargetStrategy(cfg)
    if cfg.name != "onnx":
        raise StrategyError(f"unknown strategy {cfg.name!r}; choose one of {STRATEGY_NAMES}")
    # onnxruntime is imported only when an ONNX strategy is wanted (faster start otherwise)
    from rugsd.strategy.bundle import CURRENT, BundleError, current_bundle, load_bundle
    from rugsd.strategy.onnx_strategy import OnnxStrategy

    if bundle_dir is None:
        folder = current_bundle(cfg.models_dir)
        if folder is None:
            raise StrategyError(
                f"no model bundle at {Path(cfg.models_dir) / CURRENT} nor in the package: run "
                "`rugsd retrain` or choose a rule strategy (strategy.name = presale_target | "
                "never)"
            )
    else:
        folder = Path(bundle_dir)
    try:
        return OnnxStrategy(load_bundle(folder), cfg)
    except BundleError as err:
        raise StrategyError(str(err)) from None
    except ValueError as err:  # e.g. buy_sizes_sol without 3 sizes
        raise StrategyError(f"strategy config: {err}") from None
