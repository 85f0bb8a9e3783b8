"""digitalhub-runtime-python: run plain Python functions as jobs, services and images, locally or on Kubernetes."""

from .api import get_client, get_or_create_project, get_project
from .entities import Artifact, Dataitem, Function, Model, Project, Run
from .execution import handler
from .models import SpecError, State
from .serving import command, setup

__all__ = [
    "Artifact",
    "Dataitem",
    "Function",
    "Model",
    "Project",
    "Run",
    "SpecError",
    "State",
    "command",
    "get_client",
    "get_or_create_project",
    "get_project",
    "handler",
    "setup",
]
