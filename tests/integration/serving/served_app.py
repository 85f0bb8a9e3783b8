"""The module the serving tests serve: a handler, typed commands, a stream, and a request that waits."""

import asyncio
import os
import time
from pathlib import Path

from fastapi import HTTPException
from fastapi.responses import StreamingResponse

from digitalhub_runtime_python import command, setup

GATE = asyncio.Event()  # /hold requests wait for it; /release sets it


@setup(options={"scale": (float, 1.0), "fail": (bool, False), "wait_for": (str, "")})
def init(context, scale, fail, wait_for):
    if fail:
        raise RuntimeError("init asked to fail")
    while wait_for and not Path(wait_for).exists():  # a slow start, until the test creates the file
        time.sleep(0.02)
    context.logger.info("initialised with scale %s", scale)
    return {"scale": scale, "generation": (context.state or {}).get("generation", 0) + 1}


def _breaks_mid_stream():
    yield b"first part, then "
    raise RuntimeError("broke while streaming")


def predict(context, event, offset=0):
    """The handler at /: scales event.body['x'] and echoes the request."""
    if event.body == "boom":
        raise ValueError("secret detail")
    if event.body == "broken-stream":  # a response of its own that fails once sending began
        return StreamingResponse(_breaks_mid_stream())
    return {
        "y": event.body["x"] * context.state["scale"] + offset,
        "method": event.method,
        "path": event.path,
        "query": event.query,
        "agent": event.headers.get("x-test"),
        "generation": context.state["generation"],
    }


@command("add", inputs={"a": int, "b": (int, 0)}, outputs={"sum": int}, description="Add two integers")
def add(a, b):
    return {"sum": a + b}


@command("wrong-output", inputs={"a": int}, outputs={"sum": int})
def wrong_output(a):
    return {"total": a}


@command("count", inputs={"n": int, "fail_at": (int, -1)})
def count(n, fail_at):
    """Stream n items as Server-Sent Events."""
    for i in range(n):
        if i == fail_at:
            raise RuntimeError("stream broke")
        yield {"i": i}


@command("ticks", inputs={"n": int})
async def ticks(n):
    for i in range(n):
        yield {"tick": i}


@command("hold")
async def hold(context):
    """Wait until /release (or the release file, which the drain test creates) says go."""
    release_file = os.environ.get("SERVED_RELEASE_FILE")
    while not GATE.is_set():
        if release_file and Path(release_file).exists():
            break
        try:
            await asyncio.wait_for(GATE.wait(), 0.02)
        except TimeoutError:
            pass
    return {"held": True}


@command("hold-stream")
async def hold_stream():
    """Stream one item, wait for the release file, stream another."""
    yield {"i": 0}
    release_file = Path(os.environ["SERVED_RELEASE_FILE"])
    while not release_file.exists():
        await asyncio.sleep(0.02)
    yield {"i": 1}


@command("release")
async def release():
    GATE.set()
    return {"released": True}


@command("rearm")
async def rearm():
    GATE.clear()
    return {"armed": True}


@command("teapot")
def teapot():
    raise HTTPException(418, "short and stout")


@command("sleep", inputs={"seconds": float, "tag": (str, "")})
async def sleep(seconds, tag):
    """An async job of known length; answers which process ran it."""
    await asyncio.sleep(seconds)
    return {"tag": tag, "pid": os.getpid()}


@command("big", inputs={"size": int})
def big(size):
    return {"text": "x" * size}


@command("wait-file", inputs={"path": str})
async def wait_file(path, event):
    """Run until the file exists (a job the test releases, or never does); say who ran which attempt."""
    while not Path(path).exists():
        await asyncio.sleep(0.02)
    return {
        "pid": os.getpid(),
        "job": event.headers["x-digitalhub-job-id"],
        "attempt": event.headers["x-digitalhub-job-attempt"],
    }
