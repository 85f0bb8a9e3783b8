"""``dhrun``: run functions and look at what they did, from a terminal."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import yaml
from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table

from digitalhub_runtime_python.api import get_or_create_project
from digitalhub_runtime_python.entities.base import EntityObject
from digitalhub_runtime_python.entities.project import Project
from digitalhub_runtime_python.entities.run import Run
from digitalhub_runtime_python.models.errors import SpecError
from digitalhub_runtime_python.models.keys import InvalidKey, parse_key
from digitalhub_runtime_python.models.states import State, is_final
from digitalhub_runtime_python.stores.base import NotFound

console = Console()
errors = Console(stderr=True)
STATE_STYLE = {"COMPLETED": "green", "ERROR": "red", "STOPPED": "yellow", "RUNNING": "cyan", "READY": "blue"}
LISTINGS: dict[str, Callable[[Project, bool], Sequence[EntityObject[Any]]]] = {
    "runs": lambda project, _all: project.list_runs(),
    "functions": lambda project, all_versions: project.list_functions(all_versions),
    "dataitems": lambda project, all_versions: project.list_dataitems(all_versions),
    "artifacts": lambda project, all_versions: project.list_artifacts(all_versions),
    "models": lambda project, all_versions: project.list_models(all_versions),
}


def parse_pairs(pairs: tuple[str, ...], option: str, as_json: bool) -> dict[str, Any]:
    """``k=v`` pairs to a dict; with ``as_json`` values are JSON when they parse (``a=40`` -> 40)."""
    result: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{pair!r} is not NAME=VALUE", param_hint=option)
        if as_json:
            try:
                result[name] = json.loads(value)
            except json.JSONDecodeError:
                result[name] = value
        else:
            result[name] = value
    return result


def split_target(target: str) -> tuple[str, str]:
    """``src/add.py:add`` -> (``src/add.py``, ``add``); ``src:pkg.mod:fn`` -> (``src``, ``pkg.mod:fn``)."""
    path, sep, handler = target.rpartition(":")
    if sep and Path(path).exists():
        return path, handler
    path, sep, module = path.rpartition(":")
    if sep and Path(path).exists():
        return path, f"{module}:{handler}"
    raise click.BadParameter(
        f"{target!r} is not PATH:HANDLER with an existing PATH (use --code-src/--handler for URLs)", param_hint="TARGET"
    )


def age(moment: datetime) -> str:
    """Human age of a timestamp: ``42s``, ``5m``, ``3h``, ``2d``."""
    seconds = int((datetime.now(UTC) - moment).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def styled_state(state: str) -> str:
    style = STATE_STYLE.get(state)
    return f"[{style}]{state}[/{style}]" if style else state


def entity_table(kind: str, objects: Sequence[EntityObject[Any]]) -> Table:
    """A readable table of runs or of versioned entities."""
    table = Table(box=None, header_style="bold")
    if kind == "runs":
        table.add_column("ID", no_wrap=True, min_width=32)
        for column, width in (("FUNCTION", 8), ("ACTION", 6), ("STATE", 9), ("AGE", 4)):
            table.add_column(column, no_wrap=True, min_width=width)
        table.add_column("MESSAGE", no_wrap=True, overflow="ellipsis", max_width=max(10, console.width - 75))
        for run in objects:
            function = parse_key(run.spec.function).name
            table.add_row(
                run.id,
                function,
                run.spec.action,
                styled_state(run.status.state),
                age(run.metadata.created),
                (run.status.message or "")[:80],
            )
    else:
        for column in ("NAME", "KIND", "ID", "AGE"):
            table.add_column(column, no_wrap=True)
        for obj in objects:
            table.add_row(obj.name, obj.kind, obj.id, age(obj.metadata.created))
    return table


def print_documents(documents: list[dict[str, Any]], output: str) -> None:
    if output == "json":
        click.echo(json.dumps(documents if len(documents) != 1 else documents[0], indent=2))
    else:
        text = yaml.safe_dump_all(documents, sort_keys=False, width=10_000)
        if console.is_terminal:
            console.print(Syntax(text, "yaml", background_color="default", word_wrap=True))
        else:
            click.echo(text, nl=False)


def find_run(project: Project, ref: str) -> Run:
    """A run by key or by id within the project."""
    if ref.startswith("store://"):
        return project.get_entity(ref)  # type: ignore[return-value]
    return project.get_run(ref)


def show_outcome(run: Run) -> None:
    """Print the run's state, results and outputs, or its error."""
    table = Table(box=None, show_header=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    table.add_row("run", run.key)
    table.add_row("state", styled_state(run.status.state))
    if run.status.service is not None and run.status.service.url:
        table.add_row("endpoint", run.status.service.url)
    for name, value in run.results().items():
        table.add_row(f"result {name}", json.dumps(value))
    for name, key in run.status.outputs.items():
        table.add_row(f"output {name}", key)
    console.print(table)
    if run.status.state == State.ERROR:
        errors.print(f"[red]error:[/red] {run.status.message}", highlight=False)


@click.group()
@click.option(
    "--project",
    "-P",
    default=lambda: os.environ.get("DIGITALHUB_PROJECT", "default"),
    show_default="$DIGITALHUB_PROJECT or default",
)
@click.pass_context
def main(ctx: click.Context, project: str) -> None:
    """Run Python functions as jobs and inspect them; entities live in $DIGITALHUB_HOME (default ./.digitalhub)."""
    ctx.obj = project


def _project(ctx: click.Context) -> Project:
    return get_or_create_project(ctx.obj)


@main.command()
@click.argument("target", required=False)
@click.option("--code-src", help="Code URI when TARGET is not a local PATH:HANDLER")
@click.option("--handler", help="Handler, with --code-src")
@click.option("--name", help="Function name (default: the handler's name)")
@click.option("--action", default="job", show_default=True, type=click.Choice(["job", "serve", "build"]))
@click.option(
    "-p", "--param", "params", multiple=True, metavar="NAME=VALUE", help="Parameter; VALUE is JSON when it parses"
)
@click.option("-i", "--input", "inputs", multiple=True, metavar="ARG=KEY", help="Entity input by key")
@click.option(
    "-o", "--output", "outputs", multiple=True, metavar="OUTPUT=NAME", help="Log an output under another name"
)
@click.option(
    "--init-param", "init_params", multiple=True, metavar="NAME=VALUE", help="Serve: option of the init function"
)
@click.option("-e", "--env", "envs", multiple=True, metavar="NAME=VALUE", help="Environment variable of the task")
@click.option("--python-version", help="PYTHON3_9 ... PYTHON3_12 (default: this interpreter)")
@click.option("--requirement", "requirements", multiple=True, help="A requirement of the function")
@click.option("--subprocess", "subprocess_", is_flag=True, help="Run in a child process, as a pod would")
@click.option("--wait/--no-wait", default=True, show_default=True)
@click.option("--timeout", type=float, help="Seconds to wait at most")
@click.pass_context
def run(
    ctx: click.Context,
    target: str | None,
    code_src: str | None,
    handler: str | None,
    name: str | None,
    action: str,
    params: tuple[str, ...],
    inputs: tuple[str, ...],
    outputs: tuple[str, ...],
    init_params: tuple[str, ...],
    envs: tuple[str, ...],
    python_version: str | None,
    requirements: tuple[str, ...],
    subprocess_: bool,
    wait: bool,
    timeout: float | None,
) -> None:
    """Run TARGET (PATH:HANDLER, e.g. src/add.py:add) and show its results; with --action serve, its URL."""
    if target:
        code_src, handler = split_target(target)
    if not code_src or not handler:
        raise click.UsageError("give TARGET as PATH:HANDLER, or --code-src and --handler")
    spec: dict[str, Any] = {"code_src": code_src, "handler": handler, "requirements": list(requirements)}
    if python_version:
        spec["python_version"] = python_version
    project = _project(ctx)
    function = project.new_function(name=name or handler.rpartition(":")[2].lower(), **spec)
    extra: dict[str, Any] = {"envs": parse_pairs(envs, "--env", False)}
    if init_params:
        extra["init_parameters"] = parse_pairs(init_params, "--init-param", True)
    with console.status(f"running {function.name} ({action})...", spinner="dots"):
        result = function.run(
            action,
            parameters=parse_pairs(params, "--param", True),
            inputs=parse_pairs(inputs, "--input", False),
            outputs=parse_pairs(outputs, "--output", False),
            isolation="subprocess" if subprocess_ else "inprocess",
            **extra,
        )
        if wait and not is_final(result.status.state):
            result.wait(timeout)
    show_outcome(result)
    if result.status.state == State.ERROR:
        ctx.exit(1)


@main.command()
@click.argument("kind", type=click.Choice(sorted(LISTINGS)))
@click.option("--all-versions", is_flag=True, help="Every version, not only the latest")
@click.option(
    "-o", "--output", "output", type=click.Choice(["table", "json", "yaml"]), default="table", show_default=True
)
@click.pass_context
def get(ctx: click.Context, kind: str, all_versions: bool, output: str) -> None:
    """List runs, functions, dataitems, artifacts or models, newest first."""
    objects = LISTINGS[kind](_project(ctx), all_versions)
    if output == "table":
        console.print(entity_table(kind, objects))
    else:
        print_documents([o.to_dict() for o in objects], output)


@main.command()
@click.argument("ref")
@click.option("-o", "--output", "output", type=click.Choice(["json", "yaml"]), default="yaml", show_default=True)
@click.pass_context
def describe(ctx: click.Context, ref: str, output: str) -> None:
    """Show one entity (a key, or a run id) in full."""
    project = _project(ctx)
    obj = project.get_entity(ref) if ref.startswith("store://") else project.get_run(ref)
    print_documents([obj.to_dict()], output)


@main.command()
@click.argument("run_ref", metavar="RUN")
@click.pass_context
def logs(ctx: click.Context, run_ref: str) -> None:
    """Print a run's captured stdout and stderr (RUN: id or key)."""
    click.echo(find_run(_project(ctx), run_ref).logs(), nl=False)


@main.command()
@click.argument("run_ref", metavar="RUN")
@click.pass_context
def stop(ctx: click.Context, run_ref: str) -> None:
    """Stop a run that has not finished."""
    result = find_run(_project(ctx), run_ref).stop()
    console.print(f"{result.key}: {styled_state(result.status.state)}")


@main.command()
@click.argument("run_ref", metavar="RUN")
@click.argument("path", default="/")
@click.option("--json", "json_body", metavar="JSON", help="JSON request body")
@click.option("--data", metavar="TEXT|@FILE", help="Raw request body, or @FILE to send a file")
@click.option("--method", "-X", default="POST", show_default=True)
@click.pass_context
def invoke(ctx: click.Context, run_ref: str, path: str, json_body: str | None, data: str | None, method: str) -> None:
    """Call a serving RUN at PATH and print the response body (exit 1 on an HTTP error)."""
    if json_body is not None and data is not None:
        raise click.UsageError("give --json or --data, not both")
    request: dict[str, Any] = {}
    if json_body is not None:
        try:
            request["json"] = json.loads(json_body)
        except json.JSONDecodeError as exc:
            raise click.BadParameter(f"not JSON: {exc}", param_hint="--json") from None
    elif data is not None:
        request["content"] = Path(data[1:]).read_bytes() if data.startswith("@") else data.encode()
    response = find_run(_project(ctx), run_ref).invoke(path, method=method.upper(), **request)
    click.echo(response.text)
    if response.is_error:
        ctx.exit(1)


@main.command()
@click.argument("run_ref", metavar="RUN")
@click.pass_context
def resume(ctx: click.Context, run_ref: str) -> None:
    """Bring a stopped serve run back."""
    result = find_run(_project(ctx), run_ref).resume()
    url = result.status.service.url if result.status.service else ""
    console.print(f"{result.key}: {styled_state(result.status.state)} {url}")


@main.command()
@click.argument("folder", default="charts/digitalhub/crds", type=click.Path(file_okay=False, path_type=Path))
def crds(folder: Path) -> None:
    """Write the CRDs generated from the models into FOLDER."""
    from digitalhub_runtime_python.models.crds import write_crds

    for path in write_crds(folder):
        click.echo(path)


def run_cli() -> None:
    """Entry point: user errors are one readable line and exit code 2, not a traceback."""
    try:
        main(standalone_mode=True)
    except (SpecError, NotFound, InvalidKey, NotImplementedError, RuntimeError) as exc:
        errors.print(f"[red]error:[/red] {exc}", markup=True, highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    run_cli()
