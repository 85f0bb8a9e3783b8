"""Code the console tests run: a job that waits for the test's go-ahead, and a service to call."""

import time
from pathlib import Path

from digitalhub_runtime_python import handler


@handler(outputs=["total"])
def gated(a, b, gate):
    """Adds, once the file ``gate`` exists: the test holds the run RUNNING until it has seen it so."""
    print(f"adding {a} and {b}")
    while not Path(gate).exists():
        time.sleep(0.02)
    print("done")
    return a + b


def double(context, event):
    """The service's handler at /: doubles event.body['x']."""
    return {"y": event.body["x"] * 2}
