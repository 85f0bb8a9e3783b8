"""A served handler gets its Run as the reserved ``run`` argument, as in jobs, and can log metrics through it."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

SERVED = """
def predict(run, context, event):
    run.log_metric("requests", 1)
    context.log_metric("last_size", len(event.body["items"]), overwrite=True, single_value=True)
    return {"run": run.id, "same": context.run is run}
"""


def test_served_handler_gets_its_run_and_logs_metrics(server, tmp_path: Path) -> None:
    code = tmp_path / "served_run.py"
    code.write_text(SERVED)
    run = server.project.new_function("served-run", code_src=str(code), handler="predict").run("serve")
    server.runs.append(run)
    assert run.status.state == "RUNNING", run.status.message
    assert run.invoke(json={"items": [1, 2]}).json() == {"run": run.id, "same": True}
    run.invoke(json={"items": [1, 2, 3]})
    assert run.metrics == {"requests": [1, 1], "last_size": 3}
