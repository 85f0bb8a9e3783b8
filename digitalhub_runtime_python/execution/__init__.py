"""Running handlers: loading code, composing arguments, mapping outputs, capturing logs, local launchers."""

from .arguments import RESERVED, ArgumentError, compose_arguments
from .context import Context
from .handler import declared_outputs, handler
from .job import InputError, execute_run, fetch_inputs
from .kubernetes import KubernetesLauncher, publish_code, runner_env
from .loader import HandlerError, load_handler
from .local import LocalJobLauncher, runner_command
from .outputs import OutputError, name_outputs, rename_outputs, store_outputs
from .serve import LocalServeLauncher, serve_command

__all__ = [
    "RESERVED",
    "ArgumentError",
    "Context",
    "HandlerError",
    "InputError",
    "KubernetesLauncher",
    "LocalJobLauncher",
    "LocalServeLauncher",
    "OutputError",
    "compose_arguments",
    "declared_outputs",
    "execute_run",
    "fetch_inputs",
    "handler",
    "load_handler",
    "name_outputs",
    "publish_code",
    "rename_outputs",
    "runner_command",
    "runner_env",
    "serve_command",
    "store_outputs",
]
