"""Serve the compatibility emulator on 127.0.0.1 from a background thread, and write kubeconfigs pointing at it."""

from __future__ import annotations

import asyncio
import threading
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import kmock
import yaml

from .emulator import CompatEmulator

VERBS = {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}


def declare_crds(emulator: CompatEmulator, crds: Iterable[dict[str, Any]]) -> None:
    """Declare the custom resources of CustomResourceDefinition documents (every served version, with its
    printer columns)."""
    for crd in crds:
        spec = crd["spec"]
        names = spec["names"]
        for version in spec["versions"]:
            resource = kmock.resource(spec["group"], version["name"], names["plural"])
            emulator.printer_columns[resource] = version.get("additionalPrinterColumns", [])
            if "schema" in version:
                emulator.schemas[resource] = version["schema"]["openAPIV3Schema"]
            emulator.resources[resource] = kmock.ResourceInfo(
                kind=names["kind"],
                singular=names.get("singular"),
                namespaced=spec["scope"] == "Namespaced",
                verbs=VERBS,
                shortnames=names.get("shortNames", []),
                categories=names.get("categories", []),
                subresources=set(version.get("subresources", {})),
            )


class EmulatorServer:
    """A CompatEmulator with the built-in APIs, listening on a free loopback port until ``stop()``."""

    def __init__(self, crds: Iterable[dict[str, Any]] = ()):
        self._crds = list(crds)
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._error: BaseException | None = None
        self.emulator: CompatEmulator | None = None
        self.port = 0
        self._thread = threading.Thread(target=self._serve, name="kube-emulator", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10) -> EmulatorServer:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError(f"the Kubernetes emulator did not start within {timeout} s")
        if self._error is not None:
            raise RuntimeError("the Kubernetes emulator failed to start") from self._error
        return self

    def stop(self, timeout: float = 10) -> None:
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(timeout)

    def _serve(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported to start()
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        emulator = CompatEmulator()
        with warnings.catch_warnings():  # kmock 0.8 reads its bundle with a deprecated importlib call
            warnings.simplefilter("ignore", DeprecationWarning)
            emulator.resources.load_bundled()
        declare_crds(emulator, self._crds)
        async with emulator, kmock.Server(emulator, host="127.0.0.1") as server:
            self.emulator, self.port = emulator, server.port
            self._ready.set()
            await self._stopping.wait()

    def kubeconfig(self, path: Path, namespace: str = "default", token: str = "emulator-token") -> Path:
        """Write a kubeconfig for this server whose current context uses ``namespace``; ``token`` is the identity
        the emulator can record calls for (``CompatEmulator.record_calls``)."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": "emulator",
            "clusters": [{"name": "emulator", "cluster": {"server": self.url}}],
            "users": [{"name": "tester", "user": {"token": token}}],
            "contexts": [
                {"name": "emulator", "context": {"cluster": "emulator", "user": "tester", "namespace": namespace}}
            ],
        }
        path.write_text(yaml.safe_dump(config))
        return path
