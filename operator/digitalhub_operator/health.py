"""Liveness and readiness over HTTP: ``GET /healthz`` and ``GET /readyz`` (200 or 503, with a JSON body), and the
Prometheus metrics at ``GET /metrics`` (see ``metrics.py``)."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from digitalhub_operator import metrics
from digitalhub_operator.settings import OperatorSettings


class Health:
    """Ready once connected to the API server; alive while the background scan keeps beating."""

    def __init__(self, settings: OperatorSettings):
        self.ready = False
        self.max_silence = 3 * settings.check_interval + 30
        self._last_beat = time.monotonic()
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    def beat(self) -> None:
        """Record that the scan loop completed a round."""
        self._last_beat = time.monotonic()

    @property
    def alive(self) -> bool:
        return time.monotonic() - self._last_beat < self.max_silence

    async def _healthz(self, _: web.Request) -> web.Response:
        silence = round(time.monotonic() - self._last_beat, 1)
        return web.json_response(
            {"alive": self.alive, "seconds_since_scan": silence}, status=200 if self.alive else 503
        )

    async def _readyz(self, _: web.Request) -> web.Response:
        return web.json_response({"ready": self.ready}, status=200 if self.ready else 503)

    async def _metrics(self, _: web.Request) -> web.Response:
        return web.Response(body=metrics.exposition(), headers={"Content-Type": metrics.CONTENT_TYPE})

    async def serve(self, host: str, port: int) -> None:
        app = web.Application()
        app.add_routes(
            [
                web.get("/healthz", self._healthz),
                web.get("/readyz", self._readyz),
                web.get("/metrics", self._metrics),
            ]
        )
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        sockets: Any = getattr(site._server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


async def start(settings: OperatorSettings) -> Health:
    """Serve the probes on ``settings.health_host:health_port`` (port 0 picks a free one)."""
    health = Health(settings)
    await health.serve(settings.health_host, settings.health_port)
    return health
