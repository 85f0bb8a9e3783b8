"""Runs executed on this machine never stay unfinished when nothing executes them.

A local run records the process executing it (pid, start time, host): the process that created the run, then the
child a launcher started for it. Every read of a run through the SDK or the CLI reconciles it: a run that has not
finished and whose process is gone ends in ERROR, "the process running this run exited without reporting (exit
code N)", and what that process printed after its last saved logs is added to them. This process's own children
tell their exit code; of other processes only "gone" is known. A pid held by a process started at another time
counts as gone and is never signalled. Processes of another host are left alone: they cannot be checked from here.
The store knows nothing of processes: the backends call this module.
"""

from __future__ import annotations

import os
import threading

from digitalhub_runtime_python.contract import local_log
from digitalhub_runtime_python.entities.backend import Backend
from digitalhub_runtime_python.execution.capture import JournalMark, dropped_notice
from digitalhub_runtime_python.launchers.processes import HOST, Child, alive, terminate, this_process
from digitalhub_runtime_python.models.base import now
from digitalhub_runtime_python.models.run import ErrorInfo
from digitalhub_runtime_python.models.run import Run as RunModel
from digitalhub_runtime_python.models.states import IllegalTransition, State, is_final
from digitalhub_runtime_python.stores.base import LogRecord

EXITED = "the process running this run exited without reporting"

_children: dict[str, Child] = {}
_lock = threading.Lock()


def watch(run_key: str, child: Child) -> None:
    """Remember this process's child executing ``run_key`` (its exit code is then known)."""
    with _lock:
        _children[run_key] = child


def forget(run_key: str) -> None:
    with _lock:
        _children.pop(run_key, None)


def child(run: RunModel) -> Child | None:
    """This process's child executing ``run``, if the run's recorded process is that child."""
    found = _children.get(run.key)
    info = run.status.process
    return found if found is not None and info is not None and found.pid == info.pid else None


def claim(run: RunModel) -> RunModel:
    """Record this process as executing a new run executed on this machine, until a launcher records the child it
    starts (runs executed elsewhere are left as they are)."""
    if run.spec.local_execution:
        run.status.process = this_process()
    return run


def reconcile(backend: Backend, run: RunModel) -> RunModel:
    """The run, ended in ERROR if it has not finished and the process executing it is gone."""
    info = run.status.process
    if info is None or is_final(run.status.state):
        return run
    ours = child(run)
    if ours is not None:
        code = ours.poll()
        if code is None:
            return run
    elif alive(info) is not False:
        return run
    else:
        code = None
    return end_unreported(backend, run.key, code)


def end_unreported(backend: Backend, run_key: str, code: int | None) -> RunModel:
    """End a run whose process exited without recording the end (a run that ended meanwhile stays as it is); its
    last output is in its logs before the run shows ERROR."""
    run = backend.store.get_run(run_key)
    if is_final(run.status.state):
        return run
    recover_output(backend, run)
    message = f"{EXITED} (exit code {'unknown' if code is None else code})"
    try:
        return backend.store.transition(
            run_key, State.ERROR, message, error=ErrorInfo(type="ProcessExited", message=message)
        )
    except IllegalTransition:
        return backend.store.get_run(run_key)


def recover_output(backend: Backend, run: RunModel) -> None:
    """Add to the run's logs what its (gone) child printed after the logs it saved, at most the log limit's tail
    half; once, however many processes recover it at the same time."""
    journal = local_log(backend.settings.home, run.id)
    if not journal.exists():
        return
    mark = JournalMark(journal)
    limit = backend.settings.log_limit
    with mark.locked():
        saved = mark.read()
        with open(journal, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            start = max(saved, size - (limit - limit // 2))
            file.seek(start)
            text = file.read(size - start).decode(errors="replace")
        records = [LogRecord(now(), "system", dropped_notice(start - saved, limit))] if start > saved else []
        if text:
            records.append(LogRecord(now(), "stdout", text))
        if records:
            backend.append_logs(run, records)
        mark.write(size)


def stop_process(backend: Backend, run: RunModel, grace: float) -> bool:
    """Mark the run STOPPED and terminate its process; False (nothing done) if the run had already finished."""
    info = run.status.process
    if info is not None and info.host != HOST:
        raise RuntimeError(f"run {run.id} executes on host {info.host}, not here ({HOST}): stop it from there")
    try:
        backend.store.transition(run.key, State.STOPPED, "stopped by user")
    except IllegalTransition:
        return False
    if info is not None:
        terminate(info, child(run), grace)
    return True
