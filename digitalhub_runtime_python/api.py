"""The SDK's front door: open a project on the configured backend, wired to its store and launchers."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from .entities import Client, Project
from .execution import KubernetesLauncher, LocalJobLauncher, LocalServeLauncher, publish_code
from .models import Project as ProjectModel
from .models import validate
from .settings import Settings
from .stores import AlreadyExists, KubernetesStore, LocalStore, NotFound, Store

_CLIENTS: dict[Settings, Client] = {}
_LOCK = threading.Lock()


def _open_store(settings: Settings) -> Store:
    if settings.backend == "local":
        return LocalStore(settings.home)
    return KubernetesStore(namespace=settings.namespace)


def get_client(backend: str | None = None, home: str | Path | None = None) -> Client:
    """The client for a backend, created once per settings and reused."""
    settings = Settings.from_env(backend=backend, home=home)
    with _LOCK:
        client = _CLIENTS.get(settings)
        if client is None:
            client = Client(store=_open_store(settings), settings=settings)
            client.local["job"] = LocalJobLauncher(client)
            client.local["serve"] = LocalServeLauncher(client)
            if settings.backend == "kubernetes":
                client.remote.update({action: KubernetesLauncher(client) for action in ("job", "serve", "build")})
                client.publish_code = publish_code
            _CLIENTS[settings] = client
    return client


def get_project(name: str, *, backend: str | None = None, home: str | Path | None = None) -> Project:
    """An existing project; NotFound if there is none."""
    client = get_client(backend, home)
    return Project(client.store.get(ProjectModel, name, name), client)


def get_or_create_project(
    name: str, *, backend: str | None = None, home: str | Path | None = None, **spec: Any
) -> Project:
    """The project called ``name``, created on first use. ``spec``: description, artifact_store."""
    client = get_client(backend, home)
    try:
        return Project(client.store.get(ProjectModel, name, name), client)
    except NotFound:
        pass
    entity = validate(ProjectModel, {"name": name, "spec": spec}, "project")
    try:
        return Project(client.store.create(entity), client)
    except AlreadyExists:  # another process created it meanwhile
        return Project(client.store.get(ProjectModel, name, name), client)
