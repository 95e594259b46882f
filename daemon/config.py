"""Configuration: ``config.toml`` overridden by ``RUGSD_<SECTION>__<KEY>`` environment variables.

Loaded once at start with pydantic-settings. An invalid value stops the program with one
line naming the key and the allowed range (see ``ConfigError``). Secrets (``SecretStr``)
come only from the environment and print masked.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

ROOT_DIR = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG_PATH = ROOT_DIR / "config.toml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class GeneralConfig(_Section):
    """Where the daemon keeps its state."""

    data_dir: Path = Path("rugsd-data")


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


class StrategyConfig(_Section):
    """Which strategy decides, and its parameters."""

    name: Literal["onnx", "presale_target", "never"] = "onnx"
    models_dir: Path = ROOT_DIR / "models"
    buy_sizes_sol: list[float] = [0.001, 0.005, 0.01]
    sidebet_sol: float = Field(0.001, gt=0, le=1000)
    # the sidebet model is used to bet only when its evaluation beat the baseline
    sidebet_threshold: float = Field(0.25, ge=0, le=1)
    # rule "presale_target": buy in presale, sell at a target multiple or after N ticks
    target_multiple: float = Field(1.5, gt=1, le=1000)
    max_hold_ticks: int = Field(40, ge=1, le=5000)
    bet_sol: float = Field(0.01, gt=0, le=1000)


class RiskConfig(_Section):
    """Limits enforced by the risk gate (SOL unless named otherwise)."""

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

    @model_validator(mode="after")
    def _tick_range(self) -> RiskConfig:
        if self.entry_min_tick > self.entry_max_tick:
            raise ValueError("entry_min_tick must be <= entry_max_tick")
        return self


class JournalConfig(_Section):
    """Journal (sqlite) and training dataset (Parquet) settings."""

    parquet_games_per_file: int = Field(50, ge=1, le=100_000)
    decisions_keep_features: bool = True
    # fsync (synchronous=FULL) order intents and kill events: survive power loss too
    fsync_orders: bool = True
    decision_batch_size: int = Field(1000, ge=1, le=1_000_000)
    decision_flush_interval_ms: int = Field(1000, ge=0, le=3_600_000)


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


class ControlConfig(_Section):
    """Control plane (Unix socket in the run dir) and Prometheus metrics on loopback."""

    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(0, ge=0, le=65535)  # 0 = metrics endpoint off
    snapshot_interval_s: float = Field(0.25, gt=0, le=10)


class TrainingConfig(_Section):
    """``rugsd retrain``: where the real recordings are (``--recordings`` overrides)."""

    # recording files or folders (*.jsonl / *.jsonl.gz); relative paths are taken from
    # the working directory. Empty: only the data dir's own dataset and recordings.
    recordings: list[Path] = []
    max_minutes: float = Field(30.0, gt=0, le=24 * 60)


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

    general: GeneralConfig = GeneralConfig()
    feed: FeedConfig = FeedConfig()
    sim: SimConfig = SimConfig()
    paper: PaperConfig = PaperConfig()
    strategy: StrategyConfig = StrategyConfig()
    risk: RiskConfig = RiskConfig()
    journal: JournalConfig = JournalConfig()
    live: LiveConfig = LiveConfig()
    browser: BrowserConfig = BrowserConfig()
    control: ControlConfig = ControlConfig()
    training: TrainingConfig = TrainingConfig()
    logging: LoggingConfig = LoggingConfig()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = _config_path()
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)


class ConfigError(Exception):
    """A configuration value is invalid; the message is one line naming key and range."""


def _config_path() -> Path | None:
    explicit = os.environ.get("RUGSD_CONFIG")
    if explicit:
        return Path(explicit)
    for candidate in (Path.cwd() / "config.toml", DEFAULT_CONFIG_PATH):
        if candidate.is_file():
            return candidate
    return None


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
    return f"invalid config {key}{shown}: {first['msg']}{_allowed(section, sub)}{more}"


def load_settings(**overrides: Any) -> Settings:
    """Load the effective configuration or raise ``ConfigError`` with one clear line."""
    try:
        return Settings(**overrides)
    except ValidationError as err:
        raise ConfigError(_describe(err)) from None
    except (OSError, ValueError) as err:  # unreadable or malformed TOML
        raise ConfigError(f"cannot read config {_config_path()}: {err}") from None


def masked_dump(settings: Settings) -> dict[str, Any]:
    """The effective config as plain data, secrets replaced by ``'**********'``."""
    return settings.model_dump(mode="json")  # SecretStr dumps masked in json mode
