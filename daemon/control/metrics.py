"""Prometheus metrics of the daemon and a loopback ``/metrics`` HTTP endpoint.

Each ``RugsdMetrics`` owns its own ``CollectorRegistry`` (never the global default), so
tests and several daemons in one process do not collide. The endpoint is an aiohttp
app bound to a loopback address only; ``Settings.control.metrics_port = 0`` means off
(``start_metrics_server`` returns None).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING

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

    def set_trading_state(self, state: str, kill_latched: bool) -> None:
        """Mirror the risk state (any case; unknown names map to UNKNOWN)."""
        name = str(state).upper()
        self.trading_state.state(name if name in TRADING_STATES else "UNKNOWN")
        self.kill_latched.set(1 if kill_latched else 0)

    def render(self) -> bytes:
        """The text exposition format of every metric."""
        return generate_latest(self.registry)


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
