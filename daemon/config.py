"""Configuration: a TOML file overridden by ``RUGSD_<SECTION>__<KEY>`` environment variables.

Loaded once at start with pydantic-settings. The file is the first that exists of:
``--config FILE``, ``$RUGSD_CONFIG`` (either one naming a missing file is an error),
``./config.toml``, ``$XDG_CONFIG_HOME/rugsd/config.toml``; with none, the built-in
defaults (the packaged ``config.toml`` documents them). ``config_source()`` says which.

Paths never depend on where a command happens to run: the defaults are absolute XDG dirs
(``rugsd.daemon.dirs``), a relative path in a config file is resolved against that file's
folder, and one from the environment against the working directory at load time; ``~``
is expanded. An invalid value stops the program with one line naming the key and the
allowed range (see ``ConfigError``). Secrets (``SecretStr``) come only from the
environment and print masked.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from rugsd.daemon.config_file import (  # noqa: F401 - re-exported: the config's public names
    ConfigError,
    ConfigSource,
    _absolute,
    config_source,
    use_config_file,
)
from rugsd.daemon.dirs import default_data_dir, default_models_dir, package_root

# the installed package folder (the repository root in an editable clone)
ROOT_DIR = package_root()


# a path setting: always absolute once loaded
AbsPath = Annotated[Path, AfterValidator(_absolute)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class _WithSections(_Section):
    """A section whose sub-tables ``[<section>.<name>]`` belong to plug-ins (a strategy,
    a risk rule of your own): kept as dicts for them to validate; any other unknown key
    is still an error."""

    model_config = ConfigDict(extra="allow", validate_default=True)
    # an extra key must be a table: a mistyped scalar key is refused with its name
    __pydantic_extra__: dict[str, dict[str, Any]] = Field(init=False)

    def sections(self) -> dict[str, dict[str, Any]]:
        """Every sub-table by name."""
        return {k: dict(v) for k, v in (self.__pydantic_extra__ or {}).items()}

    def section(self, name: str) -> dict[str, Any]:
        """The sub-table ``name`` ({} when absent)."""
        return dict((self.__pydantic_extra__ or {}).get(name) or {})


class GeneralConfig(_Section):
    """Where the daemon keeps its state."""

    # journal.sqlite, dataset/, run/ (pid, kill latch, control socket); default
    # $XDG_STATE_HOME/rugsd, i.e. ~/.local/state/rugsd
    data_dir: AbsPath = Field(default_factory=default_data_dir)


class FeedConfig(_Section):
    """The Socket.IO feed: default is the embedded/local simulator."""

    url: str = "http://127.0.0.1:8765"
    real_url: str = "https://backend.rugs.fun"
    query: str = "frontend-version=1.0"
    origin: str = "https://rugs.fun"
    transports: list[Literal["websocket", "polling"]] = ["websocket", "polling"]
    stale_after_s: float = Field(2.0, gt=0, le=60)
    reconnect_delay_s: float = Field(0.5, gt=0, le=60)
    reconnect_delay_max_s: float = Field(10.0, gt=0, le=600)
    connect_timeout_s: float = Field(10.0, gt=0, le=120)
    # jitter of each reconnect delay: +/- this fraction (python-socketio: +/- seconds)
    reconnect_randomization: float = Field(0.5, ge=0, le=1)
    # connected but no event at all for this long: drop the socket and reconnect
    # (a half-open connection otherwise lingers until Engine.IO's ping timeout, ~45 s)
    silent_reconnect_s: float = Field(10.0, gt=0, le=600)


class SimConfig(_Section):
    """The local game server (``rugsd sim`` and the embedded venue of ``run --paper``)."""

    host: str = "127.0.0.1"
    port: int = Field(8765, ge=0, le=65535)
    speed: float = Field(1.0, gt=0, le=1000)
    seed: int | None = None
    version: Literal["v1", "v2", "v3"] = "v3"
    starting_balance_sol: float = Field(10.0, ge=0, le=1_000_000)


class PaperConfig(_Section):
    """Paper execution: fills at the first tick at least ``latency_ms`` after the order."""

    latency_ms: int = Field(0, ge=0, le=10_000)
    # the paper account; the policy's inputs are fractions of the [risk] limits, so its
    # decisions do not depend on this size (rugsd retrain checks 0.1 to 100 SOL)
    starting_balance_sol: float = Field(1.0, gt=0, le=1_000_000)
    player_name: str = "rugsd-paper"


class ExecutorConfig(_Section):
    """Where approved orders go (``rugsd.daemon.runtime.executors.EXECUTORS``)."""

    kind: str = "paper"  # paper | browser (``rugsd run --executor`` / ``--live`` override)
    mirror: bool = True  # paper on the simulator: also send each order to it and reconcile


class StrategyConfig(_WithSections):
    """Which strategy decides, and its parameters.

    ``name`` is a name of the strategy registry (``rugsd.strategy.registry``: the built-in
    strategies and those of the ``rugsd.strategies`` entry point group); an unknown name
    fails when the strategy is built, with the known names. A strategy's own parameters
    go in its section ``[strategy.<name>]`` (a table; any other unknown key is an error).
    """

    name: str = "onnx"
    # the model registry (``current`` + versions); default $XDG_DATA_HOME/rugsd/models.
    # Without a ``current`` there, the daemon uses the bundle shipped with the package.
    models_dir: AbsPath = Field(default_factory=default_models_dir)
    buy_sizes_sol: list[float] = [0.001, 0.005, 0.01]
    sidebet_sol: float = Field(0.001, gt=0, le=1000)
    # the sidebet model is used to bet only when its evaluation beat the baseline
    sidebet_threshold: float = Field(0.25, ge=0, le=1)
    # rule "presale_target": buy in presale, sell at a target multiple or after N ticks
    target_multiple: float = Field(1.5, gt=1, le=1000)
    max_hold_ticks: int = Field(40, ge=1, le=5000)
    bet_sol: float = Field(0.01, gt=0, le=1000)



DEFAULT_PROTECTIONS: tuple[str, ...] = (
    "entry_window",
    "bet_size",
    "position_size",
    "exposure",
    "balance_reserve",
    "sidebets_per_game",
    "loss_limits",
    "order_rate",
)
"""The configured limits the gate runs by default (``rugsd.risk.rules``), in order."""


class RiskConfig(_WithSections):
    """Limits enforced by the risk gate (SOL unless named otherwise).

    ``protections``: the configurable rules the gate runs after the ones that are always
    on (``rugsd.risk.rules``), in order; a rule of your own is a module path, with its
    parameters in ``[risk.<name>]``.
    """

    max_bet_sol: float = Field(0.05, gt=0, le=1000)
    max_position_sol: float = Field(0.1, gt=0, le=10_000)
    max_exposure_sol: float = Field(0.2, gt=0, le=10_000)
    min_balance_reserve_sol: float = Field(0.1, ge=0, le=1_000_000)
    max_orders_per_minute: int = Field(30, ge=1, le=10_000)
    max_sidebets_per_game: int = Field(1, ge=0, le=100)
    max_daily_loss_sol: float = Field(0.5, gt=0, le=1_000_000)
    max_drawdown_sol: float = Field(0.3, gt=0, le=1_000_000)
    entry_phases: list[Literal["presale", "active"]] = ["presale", "active"]
    entry_min_tick: int = Field(0, ge=0, le=5000)
    entry_max_tick: int = Field(500, ge=0, le=5000)
    max_execution_errors: int = Field(3, ge=1, le=100)
    # no presale entries with less than this left (they would fill at the live price)
    presale_cutoff_ms: int = Field(300, ge=0, le=10_000)
    protections: list[str] = list(DEFAULT_PROTECTIONS)

    @model_validator(mode="after")
    def _tick_range(self) -> RiskConfig:
        if self.entry_min_tick > self.entry_max_tick:
            raise ValueError("entry_min_tick must be <= entry_max_tick")
        return self


class PlausibilityConfig(_Section):
    """Feed values the game cannot produce are bad input (DESIGN.md §1; defaults = rules).

    An update outside these bounds is dropped before it changes anything, counted by
    reason and logged (docs/reliability.md). Loosen them only for a venue with other rules.
    """

    max_price: float = Field(100_000.0, gt=1, le=1e12)
    max_tick: int = Field(5001, ge=1, le=1_000_000)  # 5000 PRNG ticks, then the rug
    max_move_per_tick: float = Field(0.25, gt=0, lt=1)  # big move: +/-15..25 %
    god_candle_factor: float = Field(10.0, ge=1, le=1000)  # x10 once, v3 only...
    god_candle_max_price: float = Field(100.0, ge=0, le=1e12)  # ...and only at price <= 100
    rug_max_fraction: float = Field(0.02, gt=0, le=1)  # rug <= 2 % of min(prev, 1)
    tolerance: float = Field(0.01, ge=0, le=1)  # relative slack for rounding in the feed


class ShutdownConfig(_Section):
    """What SIGINT/SIGTERM does with an open position (docs/reliability.md)."""

    # sell the position before stopping; unset = paper mode only (live warns and journals)
    flatten_on_stop: bool | None = None
    flatten_timeout_s: float = Field(15.0, ge=0, le=600)  # presale is 10 s: sells wait


class JournalConfig(_Section):
    """Journal (sqlite) and training dataset (Parquet, exported from the journal)."""

    decisions_keep_features: bool = True
    # fsync (synchronous=FULL) order intents and kill events: survive power loss too
    fsync_orders: bool = True
    # decisions and ticks commit in batches of this size, or this old (kill -9 loses <= 1)
    decision_batch_size: int = Field(1000, ge=1, le=1_000_000)
    decision_flush_interval_ms: int = Field(1000, ge=0, le=3_600_000)
    # at start: quick_check (default), full integrity_check, or off
    integrity_check: Literal["quick", "full", "off"] = "quick"
    # decisions and ticks older than this many days move to Parquet day files
    retention_days: int = Field(7, ge=0, le=36_500)
    # the daemon compacts in each game's settlement (no decision due): a slice of at
    # most about compact_budget_ms per feed event, compact_batch_rows rows per step
    compact_between_games: bool = True
    compact_budget_ms: int = Field(20, ge=1, le=10_000)
    compact_batch_rows: int = Field(1000, ge=100, le=1_000_000)


class LiveConfig(_Section):
    """Live trading through the real site. Off unless explicitly enabled."""

    enabled: bool = False
    venue_url: str = "https://rugs.fun"
    # secrets: only from the environment (RUGSD_LIVE__...), never logged
    wallet_label: str | None = None
    session_token: SecretStr | None = None


class BrowserConfig(_Section):
    """Playwright with Debian's Chromium; the selector map matches the real site's UI."""

    executable_path: str = "/usr/bin/chromium"
    headless: bool = True
    args: list[str] = [
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
    ]
    confirm_timeout_s: float = Field(2.0, gt=0, le=60)
    selectors: dict[str, str] = {}
    # text pattern (case-insensitive regex) each control must show before a click
    expect: dict[str, str] = {}
    # BUY / SIDEBET are clicked only while their label shows the order's amount
    verify_amount: bool = True


class ControlConfig(_Section):
    """Control plane (Unix socket in the run dir) and Prometheus metrics on loopback."""

    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(0, ge=0, le=65535)  # 0 = metrics endpoint off
    snapshot_interval_s: float = Field(0.25, gt=0, le=10)
    # a client that neither subscribed nor sent a request for this long is dropped
    idle_timeout_s: float = Field(15.0, gt=0, le=3600)


class AuditConfig(_Section):
    """Venue integrity: every game is audited against its provably-fair commitment."""

    # what a hash or price-path mismatch does: HALTED until `rugsd resume` (halt),
    # KILLED and latched (kill), or only journaled, counted and shown (warn)
    on_mismatch: Literal["halt", "kill", "warn"] = "halt"


class SweepConfig(_Section):
    """``rugsd retrain --sweep N``: the search space Ray Tune draws each trial from (one
    value per list, uniformly; a one-element list pins it) and the trials' resources."""

    learning_rate: list[float] = Field([3e-5, 1e-4, 3e-4], min_length=1)
    ent_coef: list[float] = Field([0.0, 0.003, 0.01], min_length=1)
    clip_range: list[float] = Field([0.1, 0.2], min_length=1)
    gamma: list[float] = Field([0.99, 0.995], min_length=1)
    seeds: list[int] = Field([0, 1, 2, 3, 4, 5, 6, 7], min_length=1)
    cpus_per_trial: float = Field(1.0, gt=0, le=256)
    max_concurrent: int = Field(0, ge=0, le=1024)  # 0: as many as the CPUs allow


class TrainingConfig(_Section):
    """``rugsd retrain``: where the real recordings are (``--recordings`` overrides)."""

    # recording files or folders (*.jsonl / *.jsonl.gz); relative paths are taken from
    # the working directory. Empty: only the data dir's own dataset and recordings.
    recordings: list[Path] = []
    max_minutes: float = Field(30.0, gt=0, le=24 * 60)
    # games PPO steps at once (``rugsd.training.vecenv``); 1: the single env. 128: each
    # slot plays 16 decisions of the 2048-step rollout, and SB3's per-step work (one
    # policy pass, one buffer write) is shared by 128 decisions
    n_envs: int = Field(128, ge=1, le=256)
    # processes stepping those games (``rugsd.training.vecprocs``): 0 = one per CPU this
    # process may use, at most one per 32 games; 1 = all in the trainer's own process
    env_processes: int = Field(0, ge=0, le=64)
    sweep: SweepConfig = Field(default_factory=SweepConfig)


class LoggingConfig(_Section):
    """structlog output: JSON lines in production, console in a terminal."""

    format: Literal["auto", "json", "console"] = "auto"
    level: Literal["debug", "info", "warning", "error"] = "info"


class Settings(BaseSettings):
    """The whole effective configuration."""

    model_config = SettingsConfigDict(
        env_prefix="RUGSD_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    general: GeneralConfig = Field(default_factory=GeneralConfig)
    feed: FeedConfig = Field(default_factory=FeedConfig)
    sim: SimConfig = Field(default_factory=SimConfig)
    paper: PaperConfig = Field(default_factory=PaperConfig)
    executor: ExecutorConfig = Field(default_factory=ExecutorConfig)
    strategy: StrategyConfig = Field(default_factory=StrategyConfig)
    risk: RiskConfig = Field(default_factory=RiskConfig)
    plausibility: PlausibilityConfig = Field(default_factory=PlausibilityConfig)
    shutdown: ShutdownConfig = Field(default_factory=ShutdownConfig)
    journal: JournalConfig = Field(default_factory=JournalConfig)
    live: LiveConfig = Field(default_factory=LiveConfig)
    browser: BrowserConfig = Field(default_factory=BrowserConfig)
    control: ControlConfig = Field(default_factory=ControlConfig)
    audit: AuditConfig = Field(default_factory=AuditConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        source = config_source()
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if source.path is not None:
            sources.append(_FileSource(settings_cls, _read_file(source)))
        return tuple(sources)


def _read_file(source: ConfigSource) -> dict[str, Any]:
    """The file's tables with relative paths resolved against its folder."""
    assert source.path is not None
    try:
        data = tomllib.loads(source.path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {source.path} (from {source.how}) does not exist") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise ConfigError(f"cannot read config {source.path}: {err}") from None
    folder = source.path.parent
    for section, key in _path_fields():
        table = data.get(section)
        if isinstance(table, dict) and isinstance(table.get(key), str):
            value = os.path.expanduser(table[key])
            table[key] = os.path.normpath(os.path.join(folder, value))  # absolute stays
    return data


def _path_fields() -> list[tuple[str, str]]:
    """``(section, key)`` of every path setting."""
    found = []
    for section, field_ in Settings.model_fields.items():
        for key, sub in getattr(field_.annotation, "model_fields", {}).items():
            if sub.annotation is Path or Path in get_args(sub.annotation):
                found.append((section, key))
    return found


class _FileSource(PydanticBaseSettingsSource):
    """The config file's data (already read and path-resolved) as a settings source."""

    def __init__(self, settings_cls: type[BaseSettings], data: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self._data = data

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return self._data


def _allowed(section: str | None, key: str | None) -> str:
    """Describe the allowed range of ``section.key`` from its Field constraints."""
    if section is None or key is None:
        return ""
    field_ = Settings.model_fields.get(section)
    model = field_.annotation if field_ is not None else None
    sub = getattr(model, "model_fields", {}).get(key)
    if sub is None:
        return ""
    parts = []
    for meta in sub.metadata:
        for attr, sym in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
            value = getattr(meta, attr, None)
            if value is not None:
                parts.append(f"{sym} {value}")
    return f" (allowed: {' and '.join(parts)})" if parts else ""


def _describe(err: ValidationError) -> str:
    first = err.errors()[0]
    loc = [str(p) for p in first["loc"]]
    key = ".".join(loc) or "config"
    section = loc[0] if loc else None
    sub = loc[1] if len(loc) > 1 else None
    value = first.get("input")
    shown = "" if isinstance(value, dict) else f" = {value!r}"
    more = f" (+{len(err.errors()) - 1} more)" if len(err.errors()) > 1 else ""
    msg = first["msg"]
    if first["type"] == "dict_type" and len(loc) == 2:  # an unknown key of a _WithSections
        msg = "unknown key (a plug-in's own parameters go in a sub-table [section.name])"
    return f"invalid config {key}{shown}: {msg}{_allowed(section, sub)}{more}"


def load_settings(**overrides: Any) -> Settings:
    """Load the effective configuration or raise ``ConfigError`` with one clear line."""
    try:
        return Settings(**overrides)
    except ValidationError as err:
        raise ConfigError(_describe(err)) from None
    except (OSError, ValueError) as err:  # e.g. an environment value that is not JSON
        raise ConfigError(f"cannot load config ({config_source().describe()}): {err}") from None


def masked_dump(settings: Settings) -> dict[str, Any]:
    """The effective config as plain data, secrets replaced by ``'**********'``."""
    return settings.model_dump(mode="json")  # SecretStr dumps masked in json mode
