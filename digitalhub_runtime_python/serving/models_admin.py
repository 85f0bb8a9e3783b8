"""Models deployed into a running server (``/models``): a Model entity's files fetched and loaded, listed with
their size and load time, and handed to handlers as ``context.models``. Deploying and undeploying need the admin
token; a model that is missing or fails to load is refused naming it, and what was deployed keeps serving."""

from __future__ import annotations

import asyncio
import pickle
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import Depends, FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from digitalhub_runtime_python.entities.data import Model
from digitalhub_runtime_python.models.base import NAME_PATTERN
from digitalhub_runtime_python.models.keys import InvalidKey
from digitalhub_runtime_python.serving.auth import require_admin
from digitalhub_runtime_python.serving.errors import RequestError, describe_failure, new_error_id
from digitalhub_runtime_python.serving.service import Service, Target
from digitalhub_runtime_python.stores.base import NotFound

PICKLES = (".pkl", ".pickle")


@dataclass(frozen=True)
class DeployedModel:
    """A model in the server: the ``name`` handlers look it up by, the entity's ``key``, the local ``path`` of its
    files, the loaded ``value``, its ``size`` in bytes, and the seconds fetching and loading took."""

    name: str
    key: str
    path: Path
    value: Any
    size: int
    load_seconds: float
    deployed_at: float

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "key": self.key,
            "size": self.size,
            "load_seconds": round(self.load_seconds, 6),
            "deployed_at": self.deployed_at,
        }


class Deployment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(description="The Model entity's key, store://<project>/model/<kind>/<name>[:<id>]")
    name: str | None = Field(None, pattern=NAME_PATTERN, description="Name in context.models (default: the model's)")


def load_default(path: Path) -> Any:
    """Without a ``@model_loader``: a pickle file (or a folder holding just one) unpickled, else the path."""
    files = [path] if path.is_file() else [p for p in path.iterdir() if p.is_file()]
    if len(files) == 1 and files[0].suffix in PICKLES:
        return pickle.loads(files[0].read_bytes())
    return path


class ModelRegistry:
    """The models of one server: ``context.models`` of its service; local copies live in a temporary folder."""

    def __init__(self, service: Service, debug: bool):
        self.service, self.debug = service, debug
        self.models: dict[str, DeployedModel] = service.context.models
        self.loader = Target(service.model_loader) if service.model_loader is not None else None
        self._folder: Path | None = None  # made on the first deployment
        self._lock = asyncio.Lock()

    async def deploy(self, key: str, name: str | None = None) -> DeployedModel:
        """Fetch and load the Model ``key`` as ``name``, replacing a model of that name only once it loaded."""
        async with self._lock:
            model = await anyio.to_thread.run_sync(self._entity, key)
            started = time.monotonic()
            if self._folder is None:
                self._folder = Path(tempfile.mkdtemp(prefix="digitalhub-models-"))
            folder = self._folder / f"{name or model.name}-{uuid.uuid4().hex}"
            try:
                path = await anyio.to_thread.run_sync(self._fetch, model, folder)
                value = await self._load(path, model)
            except BaseException:
                await anyio.to_thread.run_sync(shutil.rmtree, folder, True)
                raise
            deployed = DeployedModel(
                name or model.name,
                model.key,
                path,
                value,
                sum(f.size or 0 for f in model.status.files) or _size(path),
                time.monotonic() - started,
                time.time(),
            )
            previous = self.models.get(deployed.name)
            self.models[deployed.name] = deployed
            if previous is not None:
                await self._remove(previous)
            return deployed

    async def undeploy(self, name: str) -> DeployedModel:
        async with self._lock:
            deployed = self.models.pop(name, None)
            if deployed is None:
                raise RequestError(404, f"no model {name!r} is deployed (deployed: {', '.join(self.models) or 'none'})")
            await self._remove(deployed)
            return deployed

    def close(self) -> None:
        self.models.clear()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)

    def _entity(self, key: str) -> Model:
        try:
            entity = self.service.context.project.get_entity(key)
        except (NotFound, InvalidKey) as exc:
            raise RequestError(404 if isinstance(exc, NotFound) else 400, f"model {key!r}: {exc}") from None
        if not isinstance(entity, Model):
            kind = entity.entity.ENTITY_TYPE
            raise RequestError(400, f"{key!r} is a {kind}, not a model: deploy a Model entity's key")
        return entity

    @staticmethod
    def _fetch(model: Model, folder: Path) -> Path:
        try:
            return model.download(folder)
        except Exception as exc:
            raise RequestError(422, f"model {model.key!r}: its files could not be fetched: {exc}") from None

    async def _load(self, path: Path, model: Model) -> Any:
        try:
            if self.loader is None:
                return await anyio.to_thread.run_sync(load_default, path)
            return await self.loader({"path": path, "model": model})
        except Exception as exc:
            details, _ = describe_failure(exc, new_error_id(), self.debug)
            raise RequestError(422, f"model {model.key!r} could not be loaded: {details}") from None

    async def _remove(self, deployed: DeployedModel) -> None:
        await anyio.to_thread.run_sync(shutil.rmtree, deployed.path.parent, True)


def _size(path: Path) -> int:
    return path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def install_models(app: FastAPI, registry: ModelRegistry, token: SecretStr | None) -> None:
    """Add ``GET /models``, ``POST /models`` and ``DELETE /models/{name}``."""

    def admin(action: str) -> Callable[[Request], None]:
        def check(request: Request) -> None:
            require_admin(token, request.headers.get("authorization"), action)

        return check

    @app.get("/models", tags=["models"], summary="Models deployed into this server, with size and load time")
    async def list_models() -> dict[str, Any]:
        return {"models": [deployed.describe() for deployed in registry.models.values()]}

    @app.post(
        "/models",
        tags=["models"],
        status_code=201,
        summary="Deploy a Model entity into this server (needs the admin token)",
        dependencies=[Depends(admin("POST /models"))],
    )
    async def deploy(deployment: Deployment) -> dict[str, Any]:
        return (await registry.deploy(deployment.key, deployment.name)).describe()

    @app.delete(
        "/models/{name}",
        tags=["models"],
        summary="Undeploy a model (needs the admin token)",
        dependencies=[Depends(admin("DELETE /models/{name}"))],
    )
    async def undeploy(name: str) -> dict[str, Any]:
        return (await registry.undeploy(name)).describe()
