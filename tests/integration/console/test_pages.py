"""The console's pages over HTTP: 404 pages for unknown ids, read-only by default, actions only from its own
pages, errors with their traceback, logs read a page at a time, downloads and table previews, paging."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest

from digitalhub_runtime_python.models.base import now
from digitalhub_runtime_python.models.run import Run, RunSpec
from digitalhub_runtime_python.stores.base import LogRecord
from tests.integration.console.conftest import RunningConsole

pytestmark = pytest.mark.integration
HX = {"HX-Request": "true"}


@pytest.fixture
def http(console: RunningConsole) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=console.url, timeout=30) as client:
        yield client


def job(console: RunningConsole, code: str, **parameters: object):
    function = console.project.new_function("fn", code=code, handler="main")
    return function.run("job", parameters=parameters)


def stored_runs(console: RunningConsole, count: int) -> list[Run]:
    spec = RunSpec(task="store://demo/task/python+job/t:1", function="store://demo/function/python/f:1", action="job")
    return [
        console.backend.store.create(Run(project="demo", name=f"r{i:04d}", id=f"r{i:04d}", spec=spec))
        for i in range(count)
    ]


def test_unknown_ids_and_bad_input_are_pages_not_tracebacks(console: RunningConsole, http: httpx.Client) -> None:
    run = job(console, "def main():\n    return 1\n")
    for path in (
        "/projects/nope",
        "/projects/nope/events",
        "/projects/demo/runs/nope",
        "/projects/demo/runs/nope/logs.txt",
        "/projects/demo/runs/nope/events",
        "/projects/demo/functions/nope",
        "/projects/demo/functions/fn?version=nope",
        "/projects/demo/dataitems/nope",
        "/projects/demo/widgets/x",
        "/projects/demo/artifacts/nope/download?file=x",
        "/no/such/page",
    ):
        response = http.get(path)
        assert response.status_code == 404, path
        assert "Not found" in response.text and "Traceback" not in response.text, path
    bad = http.get("/projects/demo?page=0")
    assert bad.status_code == 400 and "page" in bad.text
    assert http.get(f"/projects/demo/runs/{run.id}").status_code == 200


def test_pages_send_security_headers_and_load_nothing_from_elsewhere(http: httpx.Client) -> None:
    page = http.get("/projects/demo")
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert "http://" not in page.text.replace("http://127.0.0.1", "") and "https://" not in page.text
    assert http.get("/static/vendor/htmx.min.js").status_code == 200
    with http.stream("GET", "/projects/demo/events") as stream:  # an event stream has them as well
        assert stream.headers["x-content-type-options"] == "nosniff"


def test_a_read_only_console_offers_no_action_and_refuses_them(read_only_console: RunningConsole) -> None:
    run = job(read_only_console, "def main():\n    return 1\n")
    with httpx.Client(base_url=read_only_console.url, timeout=30) as http:
        page = http.get(f"/projects/demo/runs/{run.id}").text
        assert "Read only" in page and "/stop" not in page
        refused = http.post(f"/projects/demo/runs/{run.id}/stop", headers=HX)
        assert refused.status_code == 403 and "actions are off" in refused.text


def test_actions_come_from_the_console_pages_only(console: RunningConsole, http: httpx.Client) -> None:
    run = job(console, "def main():\n    return 1\n")
    for headers in ({}, {**HX, "Origin": "http://elsewhere.example"}):
        refused = http.post(f"/projects/demo/runs/{run.id}/stop", headers=headers)
        assert refused.status_code == 403 and "own pages only" in refused.text
    bad_body = http.post(f"/projects/demo/runs/{run.id}/invoke", headers=HX, data={"route": "POST /", "body": "{x"})
    assert bad_body.status_code == 400 and "body: not JSON" in bad_body.text
    not_serving = http.post(f"/projects/demo/runs/{run.id}/invoke", headers=HX, data={"route": "POST /"})
    assert not_serving.status_code == 502 and "not serving" in not_serving.text


def test_a_failed_run_shows_its_error_with_the_traceback(console: RunningConsole, http: httpx.Client) -> None:
    run = job(console, "def main(x):\n    raise ValueError(f'bad x: {x}')\n", x=3)
    page = http.get(f"/projects/demo/runs/{run.id}").text
    assert "Error: ValueError" in page and "bad x: 3" in page
    assert 'class="traceback"' in page and "raise ValueError" in page


def test_logs_are_read_a_page_at_a_time_and_resume_where_a_page_was(
    console: RunningConsole, http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = job(console, "def main():\n    return 1\n")
    records = [LogRecord(now(), "stdout", f"line {i}\n") for i in range(1200)]
    console.backend.store.append_logs(run.key, records)

    def whole_log(*args: object) -> list[LogRecord]:
        raise AssertionError("the console read a whole log")

    monkeypatch.setattr(console.backend.store, "read_logs", whole_log)
    assert http.get(f"/projects/demo/runs/{run.id}/logs.txt").text.endswith("line 1199\n")

    def log_events(headers: dict[str, str]) -> list[tuple[str, str]]:
        """(id, text) of the ``logs`` events up to the end of the output."""
        found, event_id = [], ""
        with http.stream("GET", f"/projects/demo/runs/{run.id}/events", headers=headers) as stream:
            for line in stream.iter_lines():
                if line.startswith("id: "):
                    event_id = line[4:]
                elif line.startswith("data: line") or line.startswith("data: <"):
                    if not found or found[-1][0] != event_id:
                        found.append((event_id, ""))
                    found[-1] = (event_id, found[-1][1] + line[6:] + "\n")
                if "line 1199" in line:
                    return found
        return found

    pages = log_events({})
    assert len(pages) >= 3 and "line 0\n" in pages[0][1]  # 1,200 records (and the run's own) in pages of 500
    resumed = log_events({"Last-Event-ID": pages[1][0]})
    assert resumed == pages[2:]


def test_files_download_and_tables_show_their_first_rows(
    console: RunningConsole, http: httpx.Client, tmp_path: Path
) -> None:
    source = tmp_path / "notes.txt"
    source.write_text("some notes\n")
    artifact = console.project.log_artifact("notes", source=str(source))
    page = http.get(f"/projects/demo/artifacts/notes?version={artifact.id}").text
    assert "Download notes.txt" in page
    download = http.get(f"/projects/demo/artifacts/notes/download?version={artifact.id}&file=notes.txt")
    assert download.status_code == 200 and download.text == "some notes\n"
    assert "notes.txt" in download.headers["content-disposition"]
    escape = http.get("/projects/demo/artifacts/notes/download?file=../../store.sqlite")
    assert escape.status_code == 404

    console.project.log_dataitem(
        "big", kind="table", data=pd.DataFrame({"n": range(100), "sq": [i * i for i in range(100)]})
    )
    table = http.get("/projects/demo/dataitems/big").text
    assert "The first 20 rows" in table and "<td>361</td>" in table and "<td>400</td>" not in table


def test_runs_are_listed_a_page_at_a_time(console: RunningConsole, http: httpx.Client) -> None:
    stored_runs(console, 120)
    first = http.get("/projects/demo").text
    assert "120 runs, newest first: page 1 of 3" in first and first.count('<tr id="run-') == 50
    assert 'id="run-r0119"' in first and 'id="run-r0069"' not in first
    last = http.get("/projects/demo?page=3").text
    assert last.count('<tr id="run-') == 20 and 'id="run-r0000"' in last
    assert "page 3 of 3" in http.get("/projects/demo?page=9").text


def test_a_run_page_reads_pages_not_the_history(tmp_path: Path) -> None:
    from digitalhub_runtime_python.console.listing import run_page
    from digitalhub_runtime_python.stores.local import LocalStore

    class CountingStore(LocalStore):
        """Records what the console asks the store for."""

        asked: list[tuple[str, int | None]] = []

        def page(self, cls, project, query, *, limit, order="newest", after=None):  # type: ignore[override]
            self.asked.append(("page", limit))
            return super().page(cls, project, query, limit=limit, order=order, after=after)

        def list(self, *args, **kwargs):  # type: ignore[override]
            raise AssertionError("the console must not list every run")

    store = CountingStore(tmp_path)
    spec = RunSpec(task="store://demo/task/python+job/t:1", function="store://demo/function/python/f:1", action="job")
    for i in range(7):
        store.create(Run(project="demo", name=f"r{i}", id=f"r{i}", spec=spec))
    second = run_page(store, "demo", 2, 3)
    assert [r.id for r in second.runs] == ["r3", "r2", "r1"] and (second.pages, second.total) == (3, 7)
    third = run_page(store, "demo", 3, 3)
    assert [r.id for r in third.runs] == ["r0"] and third.pages == 3
    assert store.asked == [("page", 3)] * 2 + [("page", 3)] * 3
    store.close()


def test_every_function_version_and_its_code_has_a_page(console: RunningConsole, http: httpx.Client) -> None:
    first = console.project.new_function("fn", code="def main():\n    return 1\n", handler="main")
    second = console.project.new_function("fn", code_src="src/main.py", handler="main")
    latest = http.get("/projects/demo/functions/fn").text
    assert second.id in latest and "code_src: <code>src/main.py</code>" in latest
    older = http.get(f"/projects/demo/functions/fn?version={first.id}").text
    assert "def main():" in older and f'href="/projects/demo/functions/fn?version={second.id}"' in older


def test_an_unexpected_failure_is_a_page_without_the_traceback(
    console: RunningConsole, http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> list:
        raise RuntimeError("the store broke: secret detail")

    monkeypatch.setattr(console.backend.store, "list_projects", broken)
    page = http.get("/")
    assert page.status_code == 500 and "Something went wrong" in page.text and "RuntimeError" in page.text
    assert "secret detail" not in page.text and "Traceback" not in page.text


def test_a_run_page_shows_metrics_and_links_its_outputs(console: RunningConsole, http: httpx.Client) -> None:
    code = "import pandas as pd\n\ndef main():\n    return pd.DataFrame({'a': [1, 2]})\n"
    run = job(console, code)
    run.log_metric("loss", 0.5)
    run.log_metric("loss", 0.25)
    page = http.get(f"/projects/demo/runs/{run.id}").text
    assert '<th scope="row">loss</th><td>0.25</td><td>0.5, 0.25</td>' in page
    output = run.output("output_0")
    assert f'href="/projects/demo/dataitems/{output.name}?version={output.id}"' in page
    assert "produced_by" not in page  # the run page links outputs; the dataitem page shows where it came from
    produced = http.get(f"/projects/demo/dataitems/{output.name}?version={output.id}").text
    assert f'href="/projects/demo/runs/{run.id}"' in produced and "Produced by" in produced
