"""The session loop, mode by mode, as checks on a live Session: the local tests and the operator tests run the same
ones, so a session behaves the same on a laptop and on a cluster."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

from digitalhub_runtime_python.entities.session import Session, SessionError
from tests.waiting import wait_for

Result = dict[str, Any]


def text(records: list[list[str]], kind: str = "stdout") -> str:
    return "".join(data for record_kind, data in records if record_kind == kind)


def follow(
    session: Session,
    result: Result,
    until: Callable[[list[list[str]], Result], bool] | None = None,
    timeout: float = 60,
    what: str = "the run to finish",
) -> tuple[Result, list[list[str]]]:
    """Fetch more of ``result``'s run with mode ``continued`` until ``until(records so far, last result)`` holds
    (default: the run is no longer ``continued``); the last result and every record."""
    records = list(result["console"])
    last = [result]
    done = until or (lambda _records, latest: latest["status"] != "continued")

    def step() -> Result | None:
        if done(records, last[0]):
            return last[0]
        try:
            latest = session.execute(run_id=last[0]["runId"], mode="continued", wait=0.2)
        except SessionError as exc:  # not a reason to try again: fail now
            raise AssertionError(str(exc)) from None
        records.extend(latest["console"])
        last[0] = latest
        return latest if done(records, latest) else None

    return wait_for(step, timeout, what), records


def finished(session: Session, code: str, **options: Any) -> tuple[Result, list[list[str]]]:
    """Run ``code`` and follow it to its end."""
    return follow(session, session.execute(code=code, wait=5, **options))


def query_keeps_state(session: Session) -> None:
    first = session.execute(code="x = 21\nprint(x * 2)")
    assert first["status"] == "finished" and first["exitCode"] == 0, first
    assert first["console"] == [["stdout", "42\n"]] and first["options"] == {}
    result, records = finished(session, "x += 1\nprint(x)")
    assert text(records) == "22\n" and result["exitCode"] == 0
    assert result["runId"] != first["runId"]


def continued_fetches_a_long_run(session: Session, gate: Path) -> None:
    """A run that prints, then waits for ``gate`` (a file the test creates), then prints again."""
    code = (
        "import os, time\n"
        "print('first', flush=True)\n"
        f"while not os.path.exists({str(gate)!r}):\n"
        "    time.sleep(0.02)\n"
        "print('second')\n"
    )
    result = session.execute(code=code, wait=0.05)
    assert result["status"] == "continued" and result["exitCode"] is None, result
    result, records = follow(session, result, lambda r, _last: "first" in text(r), what="the first line")
    assert result["status"] == "continued"
    gate.write_text("go")
    result, records = follow(session, result)
    assert result["status"] == "finished" and result["exitCode"] == 0
    assert text(records) == "first\nsecond\n"
    again = session.execute(run_id=result["runId"], mode="continued")
    assert again["status"] == "finished" and again["console"] == []  # a finished run hands its output over once


def input_prompt(session: Session) -> None:
    result = session.execute(code='name = input("who? ")\nprint("hello", name)', wait=5)
    result, _ = follow(session, result)
    assert result["status"] == "waiting-input", result
    assert result["options"] == {"prompt": "who? ", "is_password": False}
    answered = session.execute(run_id=result["runId"], code="alice", mode="input", wait=5)
    answered, records = follow(session, answered)
    assert answered["status"] == "finished" and "hello alice\n" in text(records)


def password_prompt(session: Session) -> None:
    result = session.execute(code='import getpass\npin = getpass.getpass("pin: ")\nprint(len(pin))', wait=5)
    result, _ = follow(session, result)
    assert result["status"] == "waiting-input" and result["options"]["is_password"] is True, result
    assert result["options"]["prompt"] == "pin: "
    answered, records = follow(session, session.execute(run_id=result["runId"], code="1234", mode="input", wait=5))
    assert answered["exitCode"] == 0 and text(records) == "4\n"  # the answer itself is never echoed


def interrupted_prompt(session: Session) -> None:
    """A run waiting for input blocks other queries until it is answered or interrupted."""
    result, _ = follow(session, session.execute(code='input("never answered: ")', wait=5))
    assert result["status"] == "waiting-input", result
    try:
        session.execute(code="print(1)")
        raise AssertionError("a query ran while another waited for input")
    except SessionError as exc:
        assert "waits for input: answer it with mode 'input', or interrupt it" in str(exc)
    assert session.interrupt() is True
    result, records = follow(session, session.execute(run_id=result["runId"], mode="continued", wait=5))
    assert result["exitCode"] == 1 and result["options"]["error"]["name"] == "KeyboardInterrupt", records


def media_records(session: Session) -> None:
    code = (
        "import matplotlib.pyplot as plt\n"
        "from IPython.display import HTML, SVG, display\n"
        "plt.plot([1, 2, 3], [2, 1, 3])\n"
        "plt.show()\n"
        "display(HTML('<b>bold</b>'))\n"
        'display(SVG(\'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>\'))\n'
        "6 * 7\n"
    )
    result, records = finished(session, code)
    assert result["exitCode"] == 0, records
    kinds = [kind for kind, _ in records]
    assert kinds == ["image/png", "text/html", "image/svg+xml", "stdout"], kinds
    png = records[0][1]
    assert png.startswith("data:image/png;base64,")
    assert base64.b64decode(png.split(",", 1)[1]).startswith(b"\x89PNG\r\n\x1a\n")
    assert records[1][1] == "<b>bold</b>" and records[2][1].startswith("<svg")
    assert records[3] == ["stdout", "42\n"]  # the value of the last expression


def traceback_record(session: Session) -> None:
    result, records = finished(session, "def f():\n    return 1 / 0\nf()")
    assert result["status"] == "finished" and result["exitCode"] == 1
    assert result["options"]["error"] == {"name": "ZeroDivisionError", "value": "division by zero"}
    trace = text(records, "stderr")
    assert "ZeroDivisionError" in trace and "return 1 / 0" in trace and "\x1b[" not in trace


def interrupt_stops_the_running_code(session: Session) -> None:
    code = "import time\nprint('looping', flush=True)\nwhile True:\n    time.sleep(0.01)\n"
    result = session.execute(code=code, wait=0.05)
    result, _ = follow(session, result, lambda r, _last: "looping" in text(r), what="the loop to start")
    try:
        session.execute(code="print(1)")
        raise AssertionError("a second query ran while the first was running")
    except SessionError as exc:
        assert "is still running" in str(exc) and result["runId"] in str(exc)
    assert session.interrupt() is True
    result, records = follow(session, result)
    assert result["exitCode"] == 1 and result["options"]["error"]["name"] == "KeyboardInterrupt"
    assert session.interrupt() is False  # nothing runs now
    assert text(finished(session, "print('still here')")[1]) == "still here\n"


def crashing_kernel(session: Session) -> None:
    finished(session, "kept = 1")
    result, records = finished(session, "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
    assert result["status"] == "finished" and result["exitCode"] == -9, result
    assert result["options"]["kernel"] == "restarted"
    assert "the kernel died (signal SIGKILL)" in text(records, "stderr")
    after, records = finished(session, "print('kept' in globals())")  # a new kernel: the state is gone
    assert after["exitCode"] == 0 and text(records) == "False\n"


def function_code_and_folder(session: Session, module: str, call: str, expected: str) -> None:
    """The function's code imports in the kernel; the working folder is the session's; no session variable leaks."""
    code = (
        f"import os, {module}\n"
        f"print({call})\n"
        "print(sorted(n for n in os.environ if n.startswith('DIGITALHUB_SESSION_')))\n"
        "print(b'DIGITALHUB_SESSION_' in open('/proc/self/environ', 'rb').read())\n"  # nor in what it started with
        "print(os.path.basename(os.getcwd()))\n"
    )
    result, records = finished(session, code)
    assert result["exitCode"] == 0, records
    assert text(records) == f"{expected}\n[]\nFalse\nwork\n"


def batch_build_and_exec(session: Session, folder: Path) -> None:
    (folder / "greeting.py").write_text("def greet(who):\n    return f'hello {who}'\n")
    (folder / "setup.py").write_text("from setuptools import setup\nsetup(name='greeting', py_modules=['greeting'])\n")
    (folder / "mycode.py").write_text(
        "import sys\nfrom greeting import greet\nprint(greet(sys.argv[1]))\nprint('to stderr', file=sys.stderr)\n"
    )
    stored = session.upload([folder / "greeting.py", folder / "setup.py", folder / "mycode.py"])
    assert stored == ["greeting.py", "setup.py", "mycode.py"]
    result = session.execute(mode="batch", opts={"build": "*", "exec": "python mycode.py arg1"}, wait=0.05)
    result, records = follow(session, result, timeout=180)
    assert result["status"] == "finished" and result["exitCode"] == 0, records
    out = text(records)
    assert "Successfully installed greeting" in out and out.endswith("hello arg1\n"), out
    assert "to stderr\n" in text(records, "stderr")
    failing, records = follow(session, session.execute(mode="batch", opts={"exec": "python -c 'raise SystemExit(3)'"}))
    assert failing["exitCode"] == 3


def destroy(session: Session) -> None:
    session.destroy()
    assert session.refresh().status.state == "STOPPED" and session.status.message == "destroyed by user"
    try:
        session.execute(code="print(1)")
        raise AssertionError("a destroyed session answered")
    except SessionError as exc:
        assert "STOPPED" in str(exc) and "destroyed by user" in str(exc)


LOOP: dict[str, Callable[[Session, Path], None]] = {
    "query keeps state": lambda session, _folder: query_keeps_state(session),
    "continued fetches a long run": lambda session, folder: continued_fetches_a_long_run(session, folder / "gate"),
    "input prompt": lambda session, _folder: input_prompt(session),
    "password prompt": lambda session, _folder: password_prompt(session),
    "interrupted prompt": lambda session, _folder: interrupted_prompt(session),
    "media records": lambda session, _folder: media_records(session),
    "traceback record": lambda session, _folder: traceback_record(session),
    "interrupt": lambda session, _folder: interrupt_stops_the_running_code(session),
    "crashing kernel": lambda session, _folder: crashing_kernel(session),
    "batch build and exec": batch_build_and_exec,
}
"""The checks that leave a session usable, each taking the session and a folder of its own."""
