"""Runs executed on a cluster: creating the Run custom resource *is* the launch, the operator does the rest.

The operator sees the Run and starts a Job (or a Deployment and a Service) running the pod contract's command.
Stopping moves the Run to STOPPED through the store (optimistic concurrency arbitrates against the pod finishing at
the same moment) and the operator deletes the workload; resuming a stopped serve run (or schedule) moves it back to
READY and the operator creates a new workload.
"""

from __future__ import annotations

from digitalhub_runtime_python.entities.backend import Backend
from digitalhub_runtime_python.entities.run import Run
from digitalhub_runtime_python.models.states import IllegalTransition, State
from digitalhub_runtime_python.models.task import Action


def record_stop(backend: Backend, run: Run) -> None:
    """Move the run to STOPPED through the store; a run that finished meanwhile stays as it ended."""
    try:
        backend.store.transition(run.key, State.STOPPED, "stopped by user")
    except IllegalTransition:
        pass


class KubernetesLauncher:
    """Remote runs of one action: the operator executes the Run custom resource the SDK created."""

    def __init__(self, backend: Backend):
        self.backend = backend

    def launch(self, run: Run) -> None:
        """Nothing more to do: the stored Run custom resource is what the operator acts on."""

    def stop(self, run: Run) -> None:
        """Move the run to STOPPED; the operator deletes its workload."""
        record_stop(self.backend, run)

    def resume(self, run: Run) -> None:
        """Move a stopped serve run (or schedule) back to READY; the operator deploys (or schedules) it again."""
        if run.spec.action != Action.SERVE and run.spec.schedule is None:
            raise NotImplementedError(
                f"run {run.id} is a {run.spec.action}: only serve runs and schedules resume, start a new run"
            )
        self.backend.store.transition(run.key, State.READY, "resumed by user")
