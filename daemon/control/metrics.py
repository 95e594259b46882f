"""Prometheus metrics of the daemon and a loopback ``/metrics`` HTTP endpoint.

Each ``RugsdMetrics`` owns its own ``CollectorRegistry`` (never the global default), so
tests and several daemons in one process do not collide. The endpoint is an aiohttp
app bound to a loopback address only; ``Settings.control.metrics_port = 0`` means off
(``start_metrics_server`` returns None).
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import structlog
from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Enum,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily

if TYPE_CHECKING:
    from rugsd.daemon.config import ControlConfig

log = structlog.get_logger(__name__)

TRADING_STATES = ("ACTIVE", "REDUCING", "HALTED", "KILLED", "UNKNOWN")
# account gauges: metric name -> key of the snapshot's account block (the TUI's numbers)
ACCOUNT_GAUGES = {
    "balance_sol": ("balance_sol", "Cash balance (SOL)"),
    "equity_sol": ("equity_sol", "Balance plus the open position at the current price (SOL)"),
    "session_pnl_sol": ("session_pnl_sol", "Equity change since the run started (SOL)"),
    "realised_pnl_sol": ("realised_sol", "Realised P&L of the account (SOL)"),
    "unrealised_pnl_sol": ("unrealised_sol", "Open position value minus its cost (SOL)"),
    "position_cost_sol": ("cost_sol", "Cost of the open position (SOL)"),
}
# decision latency targets are p50 <= 100 us, p99 <= 300 us: resolve that range finely
LATENCY_BUCKETS = (
    25e-6, 50e-6, 75e-6, 100e-6, 150e-6, 200e-6, 300e-6, 500e-6,
    1e-3, 2e-3, 5e-3, 10e-3, 50e-3, 250e-3,
)


LiveSource = Callable[[], Mapping[str, Mapping[str, int]]]


class _LiveCounters:
    """Counters read at scrape time from the daemon's own tallies — the very numbers
    ``rugsd status`` shows (one path): ``feed_rejected_total{reason}`` and
    ``faults_total{kind}``."""

    FAMILIES = (
        ("rejected", "feed_rejected", "Rejected feed frames and events by reason", "reason"),
        ("faults", "faults", "Faults that stopped trading (or held a decision) by kind",
         "kind"),
    )

    def __init__(self, namespace: str, source: LiveSource) -> None:
        self.namespace = namespace
        self.source = source

    def _families(self) -> list[tuple[str, CounterMetricFamily]]:
        return [(key, CounterMetricFamily(f"{self.namespace}_{name}", doc, labels=[label]))
                for key, name, doc, label in self.FAMILIES]

    def describe(self) -> Iterator[CounterMetricFamily]:
        for _, family in self._families():
            yield family

    def collect(self) -> Iterator[CounterMetricFamily]:
        try:
            data = self.source()
        except Exception as err:  # noqa: BLE001 - a scrape must not fail the daemon
            log.warning("live metrics unavailable", error=repr(err)[:200])
            data = {}
        for key, family in self._families():
            for label, value in sorted((data.get(key) or {}).items()):
                family.add_metric([str(label)], float(value))
            yield family


class RugsdMetrics:
    """All daemon metrics in one private registry."""

    def __init__(self, namespace: str = "rugsd") -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.namespace = namespace
        self._live: _LiveCounters | None = None
        r, ns = self.registry, namespace
        self.ticks_total = Counter("ticks", "Game ticks processed", namespace=ns, registry=r)
        self.decisions_total = Counter(
            "decisions", "Decisions judged by the risk gate", ["verdict"], namespace=ns, registry=r
        )
        self.refusals_total = Counter(
            "refusals", "Intents refused by the risk gate", ["reason"], namespace=ns, registry=r
        )
        self.orders_total = Counter("orders", "Orders sent", ["action"], namespace=ns, registry=r)
        self.fills_total = Counter("fills", "Fills applied", ["kind"], namespace=ns, registry=r)
        self.decision_latency_seconds = Histogram(
            "decision_latency_seconds",
            "Feed payload to risk verdict",
            namespace=ns,
            registry=r,
            buckets=LATENCY_BUCKETS,
        )
        self.feed_reconnects_total = Counter(
            "feed_reconnects", "Feed reconnections", namespace=ns, registry=r
        )
        self.feed_stale = Gauge("feed_stale", "1 while the feed is stale", namespace=ns, registry=r)
        self.trading_state = Enum(
            "trading_state", "Trading state of the risk gate", namespace=ns, registry=r,
            states=list(TRADING_STATES),
        )
        self.trading_state.state("UNKNOWN")
        self.kill_latched = Gauge("kill_latched", "1 while the kill latch is set",
                                  namespace=ns, registry=r)
        self.control_commands_total = Counter(
            "control_commands", "Operator commands received on the control socket", ["cmd"],
            namespace=ns, registry=r,
        )
        self.control_errors_total = Counter(
            "control_errors", "Refused control requests and control-plane failures", ["kind"],
            namespace=ns, registry=r,
        )
        # read at scrape time from the daemon (``follow``); NaN until it does
        self.account_gauges = {
            name: Gauge(name, doc, namespace=ns, registry=r)
            for name, (_key, doc) in ACCOUNT_GAUGES.items()
        }
        self.feed_last_event_age_seconds = Gauge(
            "feed_last_event_age_seconds", "Time since the last feed event (feed lag)",
            namespace=ns, registry=r,
        )
        # venue integrity (rugsd.daemon.audit): one verdict per audited game
        self.audits_total = Counter(
            "audits", "Games audited against their provably-fair commitment, by result",
            ["result"], namespace=ns, registry=r,
        )
        self.audit_errors_total = Counter(
            "audit_errors", "Audits that failed (counted as unverifiable)", namespace=ns,
            registry=r,
        )
        self.audit_seconds = Histogram(
            "audit_seconds", "Audit request to verdict (worker thread)", namespace=ns,
            registry=r, buckets=(1e-3, 5e-3, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0),
        )
        self.audit_pending = Gauge("audit_pending", "Audits queued or running",
                                   namespace=ns, registry=r)
        for gauge in (*self.account_gauges.values(), self.feed_last_event_age_seconds):
            gauge.set(math.nan)

    def follow(self, account: Callable[[], Mapping[str, Any]],
               feed_age_ms: Callable[[], int | None]) -> None:
        """Read the account gauges and the feed lag at every scrape: ``account()`` returns
        the snapshot's account block (the same numbers the TUI and ``rugsd status`` show),
        ``feed_age_ms()`` the milliseconds since the last feed event (None: no feed)."""
        for name, (key, _doc) in ACCOUNT_GAUGES.items():
            self.account_gauges[name].set_function(lambda key=key: _number(account().get(key)))
        self.feed_last_event_age_seconds.set_function(
            lambda: _number(feed_age_ms(), scale=1e-3))

    def bind_live(self, source: LiveSource) -> None:
        """Serve ``feed_rejected_total`` / ``faults_total`` from ``source()`` at scrape
        time: ``{"rejected": {reason: n}, "faults": {kind: n}}`` (once per registry)."""
        if self._live is not None:
            self._live.source = source
            return
        self._live = _LiveCounters(self.namespace, source)
        self.registry.register(self._live)

    def observe_decision(self, verdict: str, reason: str, latency_s: float | None) -> None:
        """Count one decision (and its refusal reason) and its latency."""
        self.decisions_total.labels(verdict=verdict).inc()
        if verdict == "refused":
            self.refusals_total.labels(reason=reason or "unspecified").inc()
        if latency_s is not None:
            self.decision_latency_seconds.observe(latency_s)

    def observe_audit(self, result: str, seconds: float, error: bool = False) -> None:
        """Count one audit verdict and how long it took from request to verdict."""
        self.audits_total.labels(result=result).inc()
        self.audit_seconds.observe(seconds)
        if error:
            self.audit_errors_total.inc()

    def set_trading_state(self, state: str, kill_latched: bool) -> None:
        """Mirror the risk state (any case; unknown names map to UNKNOWN)."""
        name = str(state).upper()
        self.trading_state.state(name if name in TRADING_STATES else "UNKNOWN")
        self.kill_latched.set(1 if kill_latched else 0)

    def render(self) -> bytes:
        """The text exposition format of every metric."""
        return generate_latest(self.registry)


def _number(value: Any, scale: float = 1.0) -> float:
    """A gauge value: the number (scaled), NaN when there is none."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value) * scale
    return math.nan


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class MetricsServer:
    """``GET /metrics`` on a loopback address (port 0 binds an ephemeral port)."""

    def __init__(self, metrics: RugsdMetrics, host: str = "127.0.0.1", port: int = 0) -> None:
        if not _is_loopback(host):
            raise ValueError(f"metrics endpoint must bind a loopback address, not {host!r}")
        self.metrics = metrics
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    async def _serve(self, _request: web.Request) -> web.Response:
        return web.Response(body=self.metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def start(self) -> int:
        """Start serving; returns the bound port."""
        app = web.Application()
        app.router.add_get("/metrics", self._serve)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = runner.addresses[0][1]
        log.info("metrics endpoint listening", url=f"http://{self.host}:{self.port}/metrics")
        return self.port

    async def stop(self) -> None:
        """Stop serving (idempotent)."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


async def start_metrics_server(cfg: ControlConfig, metrics: RugsdMetrics) -> MetricsServer | None:
    """Start the endpoint from config; None when ``metrics_port`` is 0 (off)."""
    if cfg.metrics_port == 0:
        return None
    server = MetricsServer(metrics, cfg.metrics_host, cfg.metrics_port)
    await server.start()
    return server
