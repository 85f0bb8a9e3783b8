"""The objects the SDK hands out: Project, Function, Run, Dataitem, Artifact, Model."""

from .base import EntityObject
from .client import Client, Launcher
from .data import Artifact, Dataitem, DataObject, Model
from .function import Function
from .project import OBJECTS, Project
from .run import Run

__all__ = [
    "Artifact",
    "Client",
    "DataObject",
    "Dataitem",
    "EntityObject",
    "Function",
    "Launcher",
    "Model",
    "OBJECTS",
    "Project",
    "Run",
]
