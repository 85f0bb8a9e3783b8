"""``python -m digitalhub_runtime_python.sessions --run KEY``: the session's stable module name (the pod contract)."""

from digitalhub_runtime_python.entrypoints.session import run_and_exit

if __name__ == "__main__":
    run_and_exit()
