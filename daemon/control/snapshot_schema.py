"""The snapshot schema of the control protocol: tolerant pydantic models and a parser.

Every field has a default and unknown keys are ignored, so a client keeps working when
the daemon adds fields or leaves some out; ``parse_snapshot`` drops only a bad section.
Re-exported by ``rugsd.daemon.control.protocol`` (import it from there).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rugsd.daemon.control.wire import PROTOCOL_VERSION


def _first_error(err: ValidationError) -> str:
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"]) or "args"
    more = f" (+{err.error_count() - 1} more)" if err.error_count() > 1 else ""
    return f"{loc}: {first['msg']}{more}"



class _Part(BaseModel):
    model_config = ConfigDict(extra="ignore")


class DaemonInfo(_Part):
    """Who is running."""

    pid: int | None = None
    run_id: str | None = None
    mode: str | None = None  # paper | live | replay
    strategy: str | None = None
    bundle_version: str | None = None
    started_ts_ms: int | None = None
    executor: str | None = None  # paper | browser
    venue: str | None = None


class GameInfo(_Part):
    """The current game and its recent price path."""

    game_id: str | None = None
    phase: str = "unknown"  # unknown | cooldown | presale | active | rugged
    tick: int | None = None
    price: float | None = None
    peak: float | None = None
    cooldown_ms: int | None = None
    prices: list[float | None] = Field(default_factory=list)  # last <= 300 ticks
    first_tick: int = 0  # tick of prices[0]


class Marker(_Part):
    """An entry/exit on the chart."""

    tick: int
    price: float
    kind: str  # buy | sell | rug_sell | sidebet


class SidebetInfo(_Part):
    """The open sidebet."""

    start_tick: int | None = None
    end_tick: int | None = None
    stake_sol: float | None = None
    ticks_left: int | None = None


class OrphanInfo(_Part):
    """Exposure left from a game that ended unseen, and how it was settled."""

    game_id: str | None = None
    how: str = ""  # pending | revealed | unknown
    ts_ms: int | None = None
    detail: str = ""
    realised_sol: float | None = None


class AccountInfo(_Part):
    """Balance, the position and P&L (SOL floats for display)."""

    balance_sol: float | None = None
    qty: float | None = None
    avg_entry: float | None = None
    cost_sol: float | None = None
    value_sol: float | None = None
    unrealised_sol: float | None = None
    realised_sol: float | None = None
    equity_sol: float | None = None
    session_pnl_sol: float | None = None
    entry_tick: int | None = None
    sidebet: SidebetInfo | None = None
    orphan: OrphanInfo | None = None




class RiskFlags(_Part):
    """Why the state is what it is."""

    operator_paused: bool = False
    feed_stale: bool = False
    exec_errors: int = 0
    venue_integrity: bool = False  # HALTED: an audited game broke its commitment


class LimitUsage(_Part):
    """One limit and how much of it is used."""

    name: str
    used: float | None = None
    limit: float | None = None
    unit: str = ""


class RiskInfo(_Part):
    """Trading state, kill latch and limit usage."""

    state: str = "UNKNOWN"  # ACTIVE | REDUCING | HALTED | KILLED (upper-cased here)
    kill_latched: bool = False
    latch_error: str | None = None  # KILLED in memory, but the latch file could not be written
    kill_reason: str | None = None  # a ReasonCode value while KILLED
    faults: dict[str, int] = Field(default_factory=dict)  # by kind (docs/reliability.md)
    flags: RiskFlags = Field(default_factory=RiskFlags)
    limits: list[LimitUsage] = Field(default_factory=list)

    @field_validator("state", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        # rugsd.risk.states.TradingState values are lower case; the wire documents upper case
        return value.upper() if isinstance(value, str) else "UNKNOWN"


class DecisionInfo(_Part):
    """One decision of the core with its risk verdict.

    In ``decision_log`` a row may stand for ``repeat`` identical refusals in a row, the
    latest at ``last_tick`` / ``last_ts_ms``.
    """

    ts_ms: int | None = None
    game_id: str | None = None
    tick: int | None = None
    intent: str = ""
    source: str = ""  # what produced the intent: "onnx:sell_100", "risk:flatten", …
    verdict: str = "none"  # order | refused | none
    reason: str = ""
    order_id: str | None = None
    repeat: int = 1
    last_tick: int | None = None
    last_ts_ms: int | None = None


class ModelInfo(_Part):
    """The models' outputs of ONE decision, ``decision`` (null probabilities when the
    models did not make it: a flatten, a rule strategy, the cooldown)."""

    action_names: list[str] = Field(default_factory=list)
    action_probs: list[float | None] | None = None
    p_rug: float | None = None
    non_finite: int = 0
    # calls of the combined decide.onnx that raised, decided on the two graphs instead
    fallbacks: int = 0
    action_index: int | None = None  # the action the policy chose
    decision: DecisionInfo | None = None


class FeedInfo(_Part):
    """Feed health."""

    url: str | None = None
    connected: bool = False
    stale: bool = False
    last_tick_age_ms: int | None = None
    reconnects: int = 0
    rejected: int = 0
    rejected_by_reason: dict[str, int] = Field(default_factory=dict)


class ExecutionInfo(_Part):
    """Execution health."""

    executor: str | None = None
    pending_orders: int = 0
    errors: int = 0
    last_error: str | None = None


class AuditBrief(_Part):
    """One audited game, in short."""

    game_id: str | None = None
    result: str = ""  # verified | hash_mismatch | path_mismatch | unverifiable
    detail: str = ""
    tick: int | None = None  # first differing tick (path mismatch)
    expected: float | None = None
    observed: float | None = None


class AuditInfo(_Part):
    """Venue integrity: games audited against their provably-fair commitment."""

    audited: int = 0
    verified: int = 0
    hash_mismatch: int = 0
    path_mismatch: int = 0
    unverifiable: int = 0
    pending: int = 0
    last: AuditBrief | None = None
    last_mismatch: AuditBrief | None = None

    @property
    def mismatches(self) -> int:
        """Games that broke their commitment."""
        return self.hash_mismatch + self.path_mismatch


class Snapshot(_Part):
    """Everything a dashboard shows, streamed after ``subscribe``."""

    type: Literal["snapshot"] = "snapshot"
    v: int = PROTOCOL_VERSION
    seq: int = 0
    ts_ms: int | None = None
    daemon: DaemonInfo = Field(default_factory=DaemonInfo)
    game: GameInfo = Field(default_factory=GameInfo)
    markers: list[Marker] = Field(default_factory=list)
    account: AccountInfo = Field(default_factory=AccountInfo)
    model: ModelInfo = Field(default_factory=ModelInfo)
    risk: RiskInfo = Field(default_factory=RiskInfo)
    decisions: list[DecisionInfo] = Field(default_factory=list)
    # orders and refusals of the current and previous game; None from a daemon that
    # does not send it (clients then filter ``decisions``)
    decision_log: list[DecisionInfo] | None = None
    feed: FeedInfo = Field(default_factory=FeedInfo)
    execution: ExecutionInfo = Field(default_factory=ExecutionInfo)
    audit: AuditInfo = Field(default_factory=AuditInfo)


_SECTIONS: dict[str, Any] = {
    name: field.annotation
    for name, field in Snapshot.model_fields.items()
    if name not in {"type", "v", "seq", "ts_ms"}
}


def parse_snapshot(data: Any) -> tuple[Snapshot, list[str]]:
    """Parse a snapshot leniently: a bad section falls back to its defaults.

    Returns the snapshot and one message per section that was dropped, so a client can
    count and log them instead of failing the whole frame.
    """
    if not isinstance(data, dict):
        return Snapshot(), ["snapshot is not an object"]
    try:
        return Snapshot.model_validate(data), []
    except ValidationError:
        pass
    problems: list[str] = []
    clean: dict[str, Any] = {}
    for key in ("seq", "ts_ms"):
        value = data.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            clean[key] = value
    for name in _SECTIONS:
        if name not in data or data[name] is None:
            continue
        try:
            Snapshot.model_validate({name: data[name]})
        except ValidationError as err:
            problems.append(f"{name}: {_first_error(err)}")
            if name in ("markers", "decisions", "decision_log") and isinstance(data[name], list):
                clean[name] = _good_items(name, data[name])
            continue
        clean[name] = data[name]
    return Snapshot.model_validate(clean), problems


def _good_items(name: str, items: list[Any]) -> list[Any]:
    good = []
    for item in items:
        try:
            Snapshot.model_validate({name: [item]})
        except ValidationError:
            continue
        good.append(item)
    return good
