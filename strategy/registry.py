"""The strategy registry: every strategy ``strategy.name`` may name, built-in or third-party.

One ``StrategySpec`` per name: how to build it from the configuration, which evaluation
row it is when it is a baseline (``rugsd evaluate`` and ``rugsd retrain`` replay every
baseline of this registry next to the bundle), and the pydantic model of its own config
section ``[strategy.<name>]`` (like freqtrade's strategy resolver).

Third parties register through the ``rugsd.strategies`` entry point group: each entry
point loads a ``StrategySpec`` (or a callable returning one), e.g. in their
``pyproject.toml``::

    [project.entry-points."rugsd.strategies"]
    momentum = "my_package.momentum:SPEC"

To add a strategy: one module with the class and its ``StrategySpec``, and either an
entry point or ``register(SPEC)`` — tests/strategy/test_strategy_registry.py is the
worked example, run through ``rugsd replay``'s path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from rugsd.daemon.config import Settings
from rugsd.strategy.base import Strategy

ENTRY_POINT_GROUP = "rugsd.strategies"


class StrategyError(Exception):
    """The configured strategy cannot be built; the message is one line saying why."""


@dataclass(frozen=True)
class StrategyContext:
    """What a strategy is built from: the settings, its validated ``[strategy.<name>]``
    section (None without a ``params`` model), and the evaluation's options."""

    settings: Settings
    params: BaseModel | None = None
    bundle_dir: str | Path | None = None  # onnx: this bundle instead of models_dir/current
    seed: int = 0  # randomised strategies
    allow_sidebet: bool = True  # evaluation: False when the sidebet model is not usable


@dataclass(frozen=True)
class StrategySpec:
    """One registered strategy."""

    name: str
    build: Callable[[StrategyContext], Strategy]
    baseline: str | None = None  # its row name when evaluations compare against it
    params: type[BaseModel] | None = None  # the model of [strategy.<name>]
    doc: str = field(default="", compare=False)


_BUILTIN: dict[str, StrategySpec] = {}
_REGISTERED: dict[str, StrategySpec] = {}


def register(spec: StrategySpec) -> StrategySpec:
    """Add ``spec`` (a name already taken is an error: no silent replacement)."""
    if spec.name in _BUILTIN or spec.name in _REGISTERED:
        raise StrategyError(f"strategy {spec.name!r} is registered twice")
    _REGISTERED[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    """Remove a strategy added with ``register`` (tests)."""
    _REGISTERED.pop(name, None)


def _from_entry_points() -> dict[str, StrategySpec]:
    found: dict[str, StrategySpec] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
            spec = obj if isinstance(obj, StrategySpec) else obj()
        except Exception as err:  # noqa: BLE001 - a broken plugin is named, not a traceback
            raise StrategyError(f"strategy entry point {ep.name!r} ({ep.value}) failed to "
                                f"load: {type(err).__name__}: {err}") from None
        if not isinstance(spec, StrategySpec):
            raise StrategyError(f"strategy entry point {ep.name!r} gave "
                                f"{type(spec).__name__}, not a StrategySpec")
        found[spec.name] = spec
    return found


def strategies() -> dict[str, StrategySpec]:
    """Every strategy by name: the built-ins, then entry points, then ``register``-ed."""
    out = dict(_BUILTIN)
    for name, spec in {**_from_entry_points(), **_REGISTERED}.items():
        if name in _BUILTIN:
            raise StrategyError(f"strategy {name!r} is a built-in name")
        out[name] = spec
    return out


def baselines() -> list[StrategySpec]:
    """The strategies evaluations compare a bundle against, in registry order."""
    return [spec for spec in strategies().values() if spec.baseline is not None]


def spec_of(name: str) -> StrategySpec:
    """The strategy registered as ``name``; a one-line error naming the known ones."""
    known = strategies()
    if name not in known:
        raise StrategyError(f"unknown strategy {name!r}; choose one of {', '.join(known)}")
    return known[name]


def build_named(name: str, settings: Settings, **options: Any) -> Strategy:
    """Build strategy ``name`` from ``settings`` and its ``[strategy.<name>]`` section."""
    spec = spec_of(name)
    section = settings.strategy.section(name)
    params = None
    if spec.params is not None:
        try:
            params = spec.params.model_validate(section)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise StrategyError(f"[strategy.{name}] {where}: {first['msg']}") from None
    elif section:
        raise StrategyError(f"strategy {name!r} takes no [strategy.{name}] section")
    return spec.build(StrategyContext(settings, params, **options))


def build_strategy(settings: Settings, bundle_dir: str | Path | None = None) -> Strategy:
    """The configured strategy (``strategy.name``); "onnx" loads ``bundle_dir`` or
    ``models_dir/current``, and without a ``current`` there the bundle shipped with the
    package."""
    return build_named(settings.strategy.name, settings, bundle_dir=bundle_dir)


# -- the built-in strategies ------------------------------------------------------------


def _onnx(ctx: StrategyContext) -> Strategy:
    # onnxruntime is imported only when an ONNX strategy is wanted (faster start otherwise)
    from rugsd.strategy.bundle import CURRENT, BundleError, current_bundle, load_bundle
    from rugsd.strategy.onnx_strategy import OnnxStrategy

    cfg = ctx.settings.strategy
    if ctx.bundle_dir is None:
        folder = current_bundle(cfg.models_dir)
        if folder is None:
            raise StrategyError(
                f"no model bundle at {Path(cfg.models_dir) / CURRENT} nor in the package: run "
                "`rugsd retrain` or choose a rule strategy (strategy.name = presale_target | "
                "never)"
            )
    else:
        folder = Path(ctx.bundle_dir)
    try:
        return OnnxStrategy(load_bundle(folder), cfg)
    except BundleError as err:
        raise StrategyError(str(err)) from None
    except ValueError as err:  # e.g. buy_sizes_sol without 3 sizes
        raise StrategyError(f"strategy config: {err}") from None


def _never(ctx: StrategyContext) -> Strategy:
    from rugsd.strategy.rules import NeverStrategy

    return NeverStrategy()


def _random(ctx: StrategyContext) -> Strategy:
    from rugsd.strategy.rules import RandomStrategy

    return RandomStrategy(ctx.settings.strategy, seed=ctx.seed, allow_sidebet=ctx.allow_sidebet)


def _presale_target(ctx: StrategyContext) -> Strategy:
    from rugsd.strategy.rules import PresaleTargetStrategy

    return PresaleTargetStrategy(ctx.settings.strategy)


for _spec in (
    StrategySpec("onnx", _onnx, doc="the model bundle (models_dir/current)"),
    StrategySpec("never", _never, baseline="never", doc="never trades"),
    StrategySpec("random", _random, baseline="random", doc="a random valid action, seeded"),
    StrategySpec("presale_target", _presale_target, baseline="rule",
                 doc="buy in presale, sell at target_multiple or after max_hold_ticks"),
):
    _BUILTIN[_spec.name] = _spec
