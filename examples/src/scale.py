"""A served function: the init function runs once with its options, the handler answers each request."""

from digitalhub_runtime_python import setup


@setup(options={"factor": (float, 1.0)})
def init(context, factor):
    return factor  # kept as context.state


def scale(context, event):
    return {"y": event.body["x"] * context.state}
