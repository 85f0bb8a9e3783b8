"""Running handlers: loading code, composing arguments, mapping outputs, capturing logs, local launchers."""

from .arguments import RESERVED, ArgumentError, compose_arguments
from .context import Context
from .handler import declared_outputs, handler
from .job import InputError, execute_run
from .loader import HandlerError, load_handler
from .local import LocalJobLauncher, runner_command
from .outputs import OutputError, name_outputs, rename_outputs, store_outputs

__all__ = [
    "RESERVED", "ArgumentError", "Context", "HandlerError", "InputError", "LocalJobLauncher", "OutputError",
    "compose_arguments", "declared_outputs", "execute_run", "handler", "load_handler", "name_outputs",
    "rename_outputs", "runner_command", "store_outputs",
]
