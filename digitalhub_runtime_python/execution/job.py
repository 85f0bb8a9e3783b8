"""Execute one job run in this process: prepare it, call the handler with its arguments, record what came out."""

from __future__ import annotations

import sys
import traceback

from digitalhub_runtime_python.entities.project import Project
from digitalhub_runtime_python.entities.run import Run as RunObject
from digitalhub_runtime_python.execution.arguments import compose_arguments
from digitalhub_runtime_python.execution.capture import capture_output, journal_for
from digitalhub_runtime_python.execution.context import Context
from digitalhub_runtime_python.execution.handler import declared_outputs
from digitalhub_runtime_python.execution.outputs import name_outputs, rename_outputs, store_outputs
from digitalhub_runtime_python.execution.prepare import SPEC_PROBLEMS, prepare
from digitalhub_runtime_python.models.base import Relationship
from digitalhub_runtime_python.models.redaction import mask
from digitalhub_runtime_python.models.run import ErrorInfo, Run
from digitalhub_runtime_python.models.states import IllegalTransition, State
from digitalhub_runtime_python.stores.base import apply_transition


def _fail(project: Project, run_key: str, exc: BaseException, state: State = State.ERROR) -> Run:
    """Put the run in ERROR (or STOPPED) with the message and traceback; a run stopped meanwhile stays so."""
    store = project.backend.store
    message = mask(f"{type(exc).__name__}: {exc}")
    trace = None if isinstance(exc, SPEC_PROBLEMS) else mask("".join(traceback.format_exception(exc)))
    print(trace or message, file=sys.stderr, end="" if trace else "\n")
    error = ErrorInfo(type=type(exc).__name__, message=mask(str(exc)), traceback=trace)
    try:
        return store.transition(run_key, state, message, error=error if state == State.ERROR else None)
    except IllegalTransition:
        return store.get_run(run_key)


def execute_run(project: Project, run_key: str, log_interval: float = 1.0) -> Run:
    """Run a job to its end and return the stored run, COMPLETED or ERROR. Never raises for handler errors."""
    backend = project.backend
    store = backend.store
    run = store.get_run(run_key)
    logged = lambda records: backend.append_logs(run, records)  # noqa: E731
    with capture_output(logged, log_interval, backend.settings.log_limit, journal_for(run.id)):
        try:
            prepared = prepare(project, run)
            context = Context(project=project, run=RunObject(run, backend), parameters=dict(run.spec.parameters))
            reserved = {"project": project, "run": context.run, "context": context, "events": None}
            kwargs = compose_arguments(prepared.handler, run.spec.parameters, prepared.inputs, reserved)

            def start(entity: Run) -> Run:
                consumed = (Relationship(type="consumes", dest=key) for key in run.spec.inputs.values())
                entity.metadata.relationships.extend(consumed)
                apply_transition(entity.status, State.READY, "code loaded, arguments composed")
                apply_transition(entity.status, State.RUNNING)
                return entity

            store.update_run(run_key, start)  # both transitions recorded, in one write
            value = prepared.handler(**kwargs)
            named = rename_outputs(name_outputs(value, declared_outputs(prepared.handler)), run.spec.outputs)
            results, outputs = store_outputs(project, run_key, named)
        except KeyboardInterrupt as exc:
            _fail(project, run_key, exc, State.STOPPED)
            raise
        except (Exception, SystemExit) as exc:
            return _fail(project, run_key, exc)
    try:
        return store.transition(run_key, State.COMPLETED, results=results, outputs=outputs)
    except IllegalTransition:
        return store.get_run(run_key)
