"""Execute one job run: fetch code, import the handler, compose arguments, call it, record what came out."""

from __future__ import annotations

import sys
import traceback
from typing import Any

from digitalhub_runtime_python.extras import MissingExtra

from ..entities import Project
from ..models import ErrorInfo, IllegalTransition, Relationship, Run, State
from ..sources import SourceError, materialize
from ..stores import NotFound, apply_transition
from .arguments import ArgumentError, compose_arguments
from .capture import capture_output
from .context import Context
from .environment import environment_warnings
from .handler import declared_outputs
from .loader import HandlerError, load_handler
from .outputs import OutputError, name_outputs, rename_outputs, store_outputs


class InputError(LookupError):
    """An input key names no stored entity."""


# Problems the runtime detects in the run's own spec (or a missing extra): their message says it all, a traceback
# would only show the runtime's internals.
SPEC_PROBLEMS = (ArgumentError, HandlerError, InputError, MissingExtra, OutputError, SourceError)


def fetch_inputs(project: Project, inputs: dict[str, str]) -> dict[str, Any]:
    """The entity objects a run's ``inputs`` name, by argument."""
    objects = {}
    for argument, key in inputs.items():
        try:
            objects[argument] = project.get_entity(key)
        except NotFound as exc:
            raise InputError(f"input {argument!r}: {exc}; log the entity first or fix the key") from None
    return objects


def _fail(project: Project, run_key: str, exc: BaseException, state: State = State.ERROR) -> Run:
    """Put the run in ERROR (or STOPPED) with the message and traceback; a run stopped meanwhile stays so."""
    store = project.client.store
    message = f"{type(exc).__name__}: {exc}"
    trace = None if isinstance(exc, SPEC_PROBLEMS) else "".join(traceback.format_exception(exc))
    print(trace or message, file=sys.stderr, end="" if trace else "\n")
    error = ErrorInfo(type=type(exc).__name__, message=str(exc), traceback=trace)
    try:
        return store.transition(run_key, state, message, error=error if state == State.ERROR else None)
    except IllegalTransition:
        return store.get_key(run_key)  # type: ignore[return-value]


def execute_run(project: Project, run_key: str, log_interval: float = 1.0) -> Run:
    """Run a job to its end and return the stored run, COMPLETED or ERROR. Never raises for handler errors."""
    store = project.client.store
    run: Run = store.get_key(run_key)  # type: ignore[assignment]
    with capture_output(lambda records: store.append_logs(run_key, records), log_interval):
        try:
            function = store.get_key(run.spec.function)
            for warning in environment_warnings(function.spec):
                print(f"warning: {warning}", file=sys.stderr)
            tree = materialize(function.spec, project.client.settings.home / "cache")
            func = load_handler(tree, function.spec.handler)
            inputs = fetch_inputs(project, run.spec.inputs)
            context = Context(project=project, run_key=run_key, run_id=run.id, parameters=dict(run.spec.parameters))
            kwargs = compose_arguments(
                func, run.spec.parameters, inputs, {"project": project, "context": context, "events": None}
            )

            def ready(entity: Run) -> Run:
                entity.metadata.relationships.extend(
                    Relationship(type="consumes", dest=k) for k in run.spec.inputs.values()
                )
                apply_transition(entity.status, State.READY, "code loaded, arguments composed")
                return entity

            store.update(run_key, ready)
            store.transition(run_key, State.RUNNING)
            value = func(**kwargs)
            named = rename_outputs(name_outputs(value, declared_outputs(func)), run.spec.outputs)
            results, outputs = store_outputs(project, run_key, named)
        except KeyboardInterrupt as exc:
            _fail(project, run_key, exc, State.STOPPED)
            raise
        except (Exception, SystemExit) as exc:
            return _fail(project, run_key, exc)
    try:
        return store.transition(run_key, State.COMPLETED, results=results, outputs=outputs)  # type: ignore[return-value]
    except IllegalTransition:
        return store.get_key(run_key)  # type: ignore[return-value]
