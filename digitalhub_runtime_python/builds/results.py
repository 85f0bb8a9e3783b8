"""A build run's record: the build as it goes (READY, RUNNING with the Dockerfile), and its end: the function
version that runs in the image (COMPLETED), or the builder's explanation (ERROR)."""

from __future__ import annotations

from digitalhub_runtime_python.builds.context import BuildContext
from digitalhub_runtime_python.models.base import Metadata, Relationship
from digitalhub_runtime_python.models.builds import BuildInfo
from digitalhub_runtime_python.models.function import Function
from digitalhub_runtime_python.models.redaction import mask
from digitalhub_runtime_python.models.run import ErrorInfo, Run
from digitalhub_runtime_python.models.states import IllegalTransition, State, is_final
from digitalhub_runtime_python.stores.base import Store, apply_transition

LOG_LINES = 40
"""How much of the builder's output a run keeps (its last lines)."""


def log_tail(text: str, lines: int = LOG_LINES) -> str:
    """The last ``lines`` non-blank lines of a builder's output, credentials in URLs masked (it is stored)."""
    return mask("\n".join([line.rstrip() for line in text.splitlines() if line.strip()][-lines:]))


def start_build(store: Store, run_key: str, context: BuildContext, builder: str) -> Run:
    """Record the build as started: READY (its context made), then RUNNING with the image and the Dockerfile."""
    info = BuildInfo(image=context.image, builder=builder, dockerfile=context.dockerfile)
    store.transition(run_key, State.READY, f"build context ready for {context.image}")
    return store.transition(run_key, State.RUNNING, f"building {context.image} with {builder}", build=info)


def built_function(source: Function, image: str, run_key: str) -> Function:
    """A new version of ``source`` that runs in ``image``, produced by the build run ``run_key``."""
    metadata = source.metadata
    return Function(
        project=source.project,
        name=source.name,
        spec=source.spec.model_copy(update={"image": image}),
        metadata=Metadata(
            description=metadata.description,
            labels=list(metadata.labels),
            embedded=metadata.embedded,
            git_source=metadata.git_source,
            relationships=[Relationship(type="produced_by", dest=run_key)],
        ),
    )


def complete_build(store: Store, run_key: str, image: str, digest: str, log: str) -> Run | None:
    """The image is built: store the function version that runs in it (``image``, pinned to ``digest`` when it
    is a registry's), and end the run COMPLETED; None when the run ended meanwhile (stopped)."""
    run = store.get_run(run_key)
    if is_final(run.status.state):
        return None
    source = store.get_as(Function, run.spec.function)
    function = store.create(built_function(source, image, run_key))
    info = (run.status.build or BuildInfo()).model_copy(
        update={"image": image, "digest": digest, "log": log_tail(log), "function": function.key}
    )
    try:
        return store.transition(run_key, State.COMPLETED, f"built {image}: function {function.key}", build=info)
    except IllegalTransition:
        return None


def fail_build(store: Store, run_key: str, message: str, log: str = "", kind: str = "BuildError") -> None:
    """End the run in ERROR with ``message`` (which quotes what matters of the builder's output) and ``log``'s
    tail; a run that ended meanwhile (stopped) is left as it is."""

    message = mask(message)

    def change(run: Run) -> Run:
        run.status.build = (run.status.build or BuildInfo()).model_copy(update={"log": log_tail(log) or None})
        run.status.error = ErrorInfo(type=kind, message=message)
        apply_transition(run.status, State.ERROR, message)
        return run

    try:
        store.update_run(run_key, change)
    except IllegalTransition:
        pass
