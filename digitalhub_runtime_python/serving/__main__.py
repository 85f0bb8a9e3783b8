"""``python -m digitalhub_runtime_python.serving --run KEY``: the server's stable module name (the pod contract)."""

from digitalhub_runtime_python.entrypoints.serve import run_and_exit

if __name__ == "__main__":
    run_and_exit()
