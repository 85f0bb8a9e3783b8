"""The console in a real browser (headless Chromium): a run followed live from CREATED to COMPLETED without a
reload, its logs and results, a service called from its page, stopped and resumed; screenshots of the main pages; no
console error in the browser's log."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from digitalhub_runtime_python.entities.task import run_spec
from digitalhub_runtime_python.models.base import new_id
from tests.integration.console.conftest import RunningConsole, console_errors

pytestmark = pytest.mark.integration

APPS = Path(__file__).with_name("apps.py")
TIMEOUT = 60

# Remembers every state each run row shows, in order, however the row is replaced (a MutationObserver sees the
# DOM change; a reload would lose window.seen).
RECORD_STATES = """
window.seen = {};
const record = () => document.querySelectorAll('#runs tr[data-state]').forEach((row) => {
  const states = (window.seen[row.id] = window.seen[row.id] || []);
  if (states[states.length - 1] !== row.dataset.state) states.push(row.dataset.state);
});
const runs = document.getElementById('runs');
new MutationObserver(record).observe(runs, {subtree: true, childList: true, attributes: true});
record();
"""


def wait(driver, condition, what: str):
    """Poll ``condition`` until it holds; an element replaced while it was read (a live swap) counts as not yet."""
    waiting = WebDriverWait(driver, TIMEOUT, poll_frequency=0.05, ignored_exceptions=(StaleElementReferenceException,))
    return waiting.until(lambda d: condition(d), message=what)


def wait_live(driver) -> None:
    wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, ".live-scope").get_attribute("data-live") == "true", "live")


def states_seen(driver, run_id: str) -> list[str]:
    return driver.execute_script("return (window.seen || {})[arguments[0]] || []", f"run-{run_id}")


def button(driver, label: str):
    found = driver.find_elements(By.XPATH, f"//button[normalize-space()='{label}']")
    return found[0] if found else None


def state_shown(driver) -> str | None:
    found = driver.find_elements(By.ID, "run-state")
    return found[0].get_attribute("data-state") if found else None


def text_of(driver, selector: str) -> str:
    found = driver.find_elements(By.CSS_SELECTOR, selector)
    return found[0].text if found else ""


def test_a_run_live_its_page_and_a_service_called_and_stopped(console: RunningConsole, browser, tmp_path: Path) -> None:
    driver, project, errors = browser, console.project, []
    shots = tmp_path / "screenshots"
    shots.mkdir()
    project.log_dataitem("scores", kind="table", data=pd.DataFrame({"name": ["a", "b", "c"], "score": [1, 2, 3]}))
    driver.get(f"{console.url}/projects/demo")
    wait_live(driver)
    driver.execute_script(RECORD_STATES)

    # A job run stored through the SDK (CREATED), launched once the page shows it, held RUNNING until seen.
    gate = tmp_path / "gate"
    function = project.new_function("gated", code_src=str(APPS), handler="gated")
    task = project.new_task("python+job", function="gated")
    spec = run_spec(function.key, "job", None, {"a": 40, "b": 2, "gate": str(gate)}, None, None, True, "subprocess")
    run = task.store_run(spec, new_id())
    wait(driver, lambda d: "CREATED" in states_seen(d, run.id), "the new row, CREATED")
    driver.save_screenshot(str(shots / "project-run-created.png"))
    console.backend.launcher("job", True).launch(run)
    wait(driver, lambda d: states_seen(d, run.id)[-1:] == ["RUNNING"], "the row RUNNING")
    gate.touch()
    wait(driver, lambda d: states_seen(d, run.id)[-1:] == ["COMPLETED"], "the row COMPLETED")
    seen = [state for state in states_seen(driver, run.id) if state != "READY"]  # READY may pass unseen
    assert seen == ["CREATED", "RUNNING", "COMPLETED"]
    assert driver.execute_script("return window.seen !== undefined"), "the page was reloaded"
    driver.save_screenshot(str(shots / "project.png"))
    errors += console_errors(driver)

    # The run's page: results, logs, timeline.
    driver.find_element(By.CSS_SELECTOR, f"#run-{run.id} a").click()
    wait_live(driver)
    wait(driver, lambda d: "done" in text_of(d, "#log"), "the logs")
    assert "adding 40 and 2" in text_of(driver, "#log")
    wait(driver, lambda d: "total" in text_of(d, "#results") and "42" in text_of(d, "#results"), "the results")
    timeline = ["CREATED", "READY", "RUNNING", "COMPLETED"]
    steps = lambda d: [li.text.split()[0] for li in d.find_elements(By.CSS_SELECTOR, ".timeline li")]  # noqa: E731
    wait(driver, lambda d: steps(d) == timeline, "the timeline")
    driver.save_screenshot(str(shots / "run.png"))
    errors += console_errors(driver)

    # A service: its routes from its OpenAPI document, one called from the form, stopped, resumed.
    service = project.new_function("double", code_src=str(APPS), handler="double").run("serve")
    try:
        assert service.status.state == "RUNNING", service.status.message
        driver.get(f"{console.url}/projects/demo/runs/{service.id}")
        wait_live(driver)
        route = wait(driver, lambda d: d.find_element(By.ID, "invoke-route"), "the service's routes")
        Select(route).select_by_value("POST /")
        driver.find_element(By.ID, "invoke-body").send_keys('{"x": 21}')
        driver.find_element(By.CSS_SELECTOR, ".invoke button[type=submit]").click()
        wait(driver, lambda d: '"y": 42' in text_of(d, "#invoke-answer"), "the service's answer")
        assert "200 OK" in text_of(driver, ".response-status")
        driver.save_screenshot(str(shots / "service.png"))
        button(driver, "Stop").click()
        wait(driver, lambda d: state_shown(d) == "STOPPED", "STOPPED")
        stopped = service.backend.store.wait_run(service.key, lambda run: run.status.process is None, timeout=TIMEOUT)
        assert stopped.status.state == "STOPPED"
        driver.execute_script("window.scrollTo(0, 0)")
        driver.save_screenshot(str(shots / "service-stopped.png"))
        wait(driver, lambda d: button(d, "Resume"), "a Resume button").click()
        wait(driver, lambda d: state_shown(d) == "RUNNING", "RUNNING again")
        assert service.refresh().invoke(json={"x": 2}).json() == {"y": 4}
    finally:
        service.stop()
    errors += console_errors(driver)

    # The other pages, for the screenshots (and their console errors).
    for name, path in (
        ("projects", "/"),
        ("function", "/projects/demo/functions/gated"),
        ("dataitem", "/projects/demo/dataitems/scores"),
    ):
        driver.get(console.url + path)
        wait(driver, lambda d: d.find_element(By.TAG_NAME, "h1"), f"the {name} page")
        driver.save_screenshot(str(shots / f"{name}.png"))
    assert "score" in text_of(driver, "table.preview") and "c" in text_of(driver, "table.preview")
    errors += console_errors(driver)
    assert errors == [], errors
    assert sorted(p.name for p in shots.iterdir()) == [
        "dataitem.png",
        "function.png",
        "project-run-created.png",
        "project.png",
        "projects.png",
        "run.png",
        "service-stopped.png",
        "service.png",
    ]
