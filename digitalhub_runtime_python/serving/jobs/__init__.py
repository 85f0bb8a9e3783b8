"""Async request jobs: submitted over HTTP, kept in a job store, run by the server's workers.

- ``submissions``: what a client sends: args or a url to read them from, a JSON or pickled result, a request id.
- ``records``: a job as stored (``Job``, its ``JobRequest`` and ``Outcome``) and its states.
- ``store``: the ``JobStore`` interface every store implements, and ``open_job_store`` choosing one by setting.
- ``memory``: the embedded default, one process's memory.
- ``redis_store``: Redis, shared by the replicas of a serve run (queue, records, results, cancellation).
- ``results``: a handler's return value as an outcome; large and pickled ones go to the project's artifact store.
- ``runner``: the workers that claim jobs, run them, renew their leases, store outcomes and drain.
- ``routes``: the ``/jobs`` routes, and how a job runs (``AsyncJobs.execute``, which ``POST /requests`` reuses).

The HTTP routes only submit, read, wait on and cancel through the store; only the runner
executes. A new store implements ``JobStore`` and is chosen in ``open_job_store``.
"""
