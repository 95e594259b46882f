"""Find or start the venue for paper trading: a running simulator, or an embedded one.

An embedded simulator opens its practice accounts at ``paper.starting_balance_sol`` —
by default the account size the committed model bundle was trained with — so paper and
browser modes on it start from the account the strategy expects (a standalone
``rugsd sim`` keeps ``sim.starting_balance_sol``). ``Venue.practice_sol`` says so.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any

import aiohttp
import structlog

from rugsd.daemon.config import Settings, SimConfig
from rugsd.daemon.sim.server import SimServer

log = structlog.get_logger(__name__)


@dataclass
class Venue:
    """Where the feed comes from; ``sim`` is set when we started it ourselves."""

    url: str
    is_simulator: bool
    sim: SimServer | None = None
    practice_sol: float | None = None  # embedded: the balance its accounts open with

    async def close(self) -> None:
        """Stop an embedded simulator."""
        if self.sim is not None:
            await self.sim.stop()


async def probe_simulator(url: str, timeout_s: float = 1.0) -> dict[str, Any] | None:
    """``GET URL/health`` of a simulator; None when nothing (or not a simulator) answers."""
    try:
        timeout = aiohttp.ClientTimeout(total=timeout_s)
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            http.get(url.rstrip("/") + "/health") as resp,
        ):
            if resp.status != 200:
                return None
            data = await resp.json(content_type=None)
            return data if isinstance(data, dict) else None
    except (TimeoutError, aiohttp.ClientError, ValueError, OSError):
        return None


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


async def open_venue(settings: Settings, feed_url: str | None) -> Venue:
    """``--feed URL`` as given; else the configured simulator if one runs; else embed one."""
    if feed_url:
        return Venue(feed_url, await probe_simulator(feed_url) is not None)
    url = settings.feed.url
    if await probe_simulator(url) is not None:
        log.info("connecting to the running simulator", url=url)
        return Venue(url, True)
    cfg = embedded_sim_config(settings)
    sim = SimServer(cfg, seed=cfg.seed, speed=cfg.speed)
    port = cfg.port if cfg.port and _port_free(cfg.host, cfg.port) else 0
    bound = await sim.start(cfg.host, port)
    log.info("embedded simulator started", url=sim.url, port=bound, speed=cfg.speed,
             practice_sol=cfg.starting_balance_sol)
    return Venue(sim.url, True, sim, cfg.starting_balance_sol)


def embedded_sim_config(settings: Settings) -> SimConfig:
    """The embedded simulator's config: practice accounts open at the paper account's size."""
    return settings.sim.model_copy(
        update={"starting_balance_sol": settings.paper.starting_balance_sol})
