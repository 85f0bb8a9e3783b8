"""``dhrun``: run functions and look at what they did, from a terminal."""

from __future__ import annotations

import json
import os
import platform
import sys
import textwrap
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext, redirect_stderr, redirect_stdout
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import click
import yaml
from rich.console import Console
from rich.markup import escape
from rich.syntax import Syntax
from rich.table import Table

from digitalhub_runtime_python.api import (
    environments_folder,
    get_backend,
    get_or_create_project,
    get_project,
    list_environments,
    prune_environments,
)
from digitalhub_runtime_python.entities.base import EntityObject
from digitalhub_runtime_python.entities.catalog import Catalog
from digitalhub_runtime_python.entities.function import Function
from digitalhub_runtime_python.entities.project import Project
from digitalhub_runtime_python.entities.run import Run
from digitalhub_runtime_python.environments.cache import EnvironmentEntry
from digitalhub_runtime_python.environments.requirements import RequirementError, read_requirements_file
from digitalhub_runtime_python.extras import (
    DISTRIBUTION,
    EXTRAS,
    MissingExtra,
    install_command,
    installed_version,
    missing_modules,
    require,
)
from digitalhub_runtime_python.models.errors import SpecError
from digitalhub_runtime_python.models.keys import InvalidKey, parse_key
from digitalhub_runtime_python.models.metrics import latest
from digitalhub_runtime_python.models.redaction import mask
from digitalhub_runtime_python.models.states import FINAL_STATES, State, is_final
from digitalhub_runtime_python.models.task import Action
from digitalhub_runtime_python.settings import Settings, locate_home
from digitalhub_runtime_python.stores.base import NotFound

console = Console()
errors = Console(stderr=True)
STATE_STYLE = {"COMPLETED": "green", "ERROR": "red", "STOPPED": "yellow", "RUNNING": "cyan", "READY": "blue"}
LISTINGS: dict[str, Callable[[Project], Catalog[Any]]] = {
    "runs": lambda project: project.runs,
    "functions": lambda project: project.functions,
    "dataitems": lambda project: project.dataitems,
    "artifacts": lambda project: project.artifacts,
    "models": lambda project: project.models,
}
DEFAULT_LIMIT = 50
# Errors of the user's input or setup: one line and exit code 2, never a traceback.
USER_ERRORS = (SpecError, NotFound, InvalidKey, NotImplementedError, RuntimeError, MissingExtra, RequirementError)
SHORT_ID = 8
EXIT_FAILED, EXIT_USAGE, EXIT_TIMEOUT, EXIT_INTERRUPTED = 1, 2, 3, 130
PROJECT_KEY = "dhrun.project"

F = TypeVar("F", bound=Callable[..., Any])


class UserError(click.ClickException):
    """A domain error shown as ``error: <message>`` with exit code 2."""

    exit_code = EXIT_USAGE

    def show(self, file: Any = None) -> None:
        say("error", self.message, "red")


class Group(click.Group):
    """The ``dhrun`` group: turns the runtime's user errors into one line."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):  # Exit is a RuntimeError
            raise
        except USER_ERRORS as exc:
            raise UserError(str(exc)) from None


def _remember_project(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:  # given after the subcommand: it wins over the group's value or default
        ctx.meta[PROJECT_KEY] = value


def project_option(default: Callable[[], str] | None) -> Callable[[F], F]:
    """``--project/-P``, accepted before the subcommand (with the default) and after it (overriding)."""
    return click.option(
        "--project",
        "-P",
        default=default,
        show_default="$DIGITALHUB_PROJECT or default" if default else False,
        expose_value=False,
        callback=_remember_project,
        help="Project of the entities",
    )


def examples(*lines: str) -> str:
    """A command's help epilog: one example per line, kept as written."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


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


def short_ids(ids: list[str]) -> dict[str, str]:
    """Each id's shortest prefix of at least 8 characters that no other id in ``ids`` shares."""
    ordered = sorted(set(ids))

    def shared(a: str, b: str) -> int:
        return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))

    result = {}
    for i, id_ in enumerate(ordered):
        neighbours = ordered[max(i - 1, 0) : i] + ordered[i + 1 : i + 2]
        length = max([SHORT_ID - 1, *(shared(id_, other) for other in neighbours)]) + 1
        result[id_] = id_[:length]
    return result


def short(run: Run) -> str:
    """The id a message shows for a run (its first 8 characters; RUN arguments accept any unique prefix)."""
    return run.id[:SHORT_ID]


def metric_cell(value: Any) -> str:
    """A metric in a table: its value, or the last of its series; blank when it was not logged."""
    last = latest(value)
    return "" if last is None else f"{last:.6g}"


def entity_table(kind: str, objects: Sequence[EntityObject], metrics: Sequence[str] = ()) -> Table:
    """A readable table of runs (with a column per metric named) or of versioned entities, with short ids."""
    ids = short_ids([obj.id for obj in objects])
    table = Table(box=None, header_style="bold")
    if kind == "runs":
        for column, width in (("ID", SHORT_ID), ("FUNCTION", 8), ("ACTION", 6), ("STATE", 9), ("AGE", 4)):
            table.add_column(column, no_wrap=True, min_width=width)
        for metric in metrics:
            table.add_column(escape(metric.upper()), no_wrap=True, justify="right")
        table.add_column("MESSAGE", no_wrap=True, overflow="ellipsis", max_width=max(10, console.width - 50))
        for run in objects:
            table.add_row(
                ids[run.id],
                parse_key(run.spec.function).name,
                run.spec.action,
                styled_state(run.status.state),
                age(run.metadata.created),
                *(metric_cell(run.status.metrics.get(metric)) for metric in metrics),
                escape(mask(run.status.message).splitlines()[0][:80]) if run.status.message else "",
            )
    else:
        for column in ("NAME", "KIND", "ID", "AGE"):
            table.add_column(column, no_wrap=True)
        for obj in objects:
            table.add_row(escape(obj.name), obj.kind, ids[obj.id], age(obj.metadata.created))
    return table


def print_documents(documents: Any, output: str) -> None:
    """One JSON or YAML document: a list for listings, an object for one entity."""
    if output == "json":
        click.echo(mask(json.dumps(documents, indent=2)))
        return
    text = mask(yaml.safe_dump(documents, sort_keys=False, width=10_000))
    if console.is_terminal:
        console.print(Syntax(text, "yaml", background_color="default", word_wrap=True))
    else:
        click.echo(text, nl=False)


def print_listing(objects: Iterable[EntityObject], output: str) -> None:
    """A listing as one JSON or YAML list, written an entity at a time (memory stays flat however long it is);
    the same text ``print_documents`` gives for the whole list."""
    empty = True
    for obj in objects:
        if output == "json":
            item = textwrap.indent(mask(json.dumps(obj.to_dict(), indent=2)), "  ")
            click.echo(("[\n" if empty else ",\n") + item, nl=False)
        else:
            print_documents([obj.to_dict()], output)
        empty = False
    if output == "json":
        click.echo("[]" if empty else "\n]")
    elif empty:
        print_documents([], output)


def current_project(ctx: click.Context) -> Project:
    return get_or_create_project(ctx.meta[PROJECT_KEY])


def find_entity(ctx: click.Context, ref: str) -> EntityObject:
    """An entity by key (in the key's project), or a run of the current project by id or by a prefix of its id
    that no other run shares."""
    if ref.startswith("store://"):
        return get_project(parse_key(ref).project).get_entity(ref)
    project = current_project(ctx)
    try:
        return project.get_run(ref)
    except NotFound:
        pass
    runs = project.runs.iterate(project.runs.query(q=ref)) if ref else iter(())
    matches = [run for run in runs if run.id.startswith(ref)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        shown = ", ".join(short_ids([run.id for run in matches]).values())
        raise NotFound(f"{ref!r} is the start of {len(matches)} runs ({shown}): give more characters")
    raise NotFound(f"no run {ref!r} in project {project.name!r}: `dhrun get runs` lists them")


def find_run(ctx: click.Context, ref: str) -> Run:
    obj = find_entity(ctx, ref)
    if not isinstance(obj, Run):
        raise NotFound(f"{ref} is a {obj.entity.ENTITY_TYPE}, not a run")
    return obj


def follow_hint(ctx: click.Context, run: Run, *commands: str) -> str:
    """``dhrun logs ID, dhrun describe ID`` (with ``-P PROJECT`` unless it is the default project)."""
    project = ctx.meta[PROJECT_KEY]
    where = "" if project == "default" else f" -P {project}"
    return ", ".join(f"dhrun {command} {short(run)}{where}" for command in commands)


def show_outcome(ctx: click.Context, run: Run) -> None:
    """The run's state, results and outputs; a failure once, as one line (its traceback: ``dhrun logs``)."""
    table = Table(box=None, show_header=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    table.add_row("run", short(run))
    table.add_row("state", styled_state(run.status.state))
    if run.status.service is not None and run.status.service.url:
        table.add_row("endpoint", escape(run.status.service.url))
    if run.status.build is not None and run.status.build.function:
        table.add_row("image", escape(run.status.build.image or ""))
        table.add_row("function", escape(run.status.build.function))
    for name, value in run.results().items():
        table.add_row(f"result {escape(name)}", escape(mask(json.dumps(value))))
    for name, key in run.status.outputs.items():
        table.add_row(f"output {escape(name)}", escape(key))
    traceback = run.status.error is not None and run.status.error.traceback
    if run.logs() and not traceback:
        table.add_row("logs", escape(follow_hint(ctx, run, "logs")))
    console.print(table)
    if run.status.state == State.ERROR:
        where = f" (traceback: {follow_hint(ctx, run, 'logs')})" if traceback else ""
        say("error", f"{run.status.message}{where}", "red")
    elif run.status.state == State.STOPPED:
        say("stopped", run.status.message or "", "yellow")


def say(label: str, text: str, style: str = "") -> None:
    """``label: text`` on stderr, on one line however narrow the terminal; ``text`` is shown as it is."""
    head = f"[{style}]{label}:[/{style}]" if style else f"{label}:"
    errors.print(f"{head} {escape(mask(text))}", highlight=False, soft_wrap=True)


@contextmanager
def muted() -> Iterator[None]:
    """Keep an in-process run's output off the terminal, like a child process's: it is in ``dhrun logs``."""
    with open(os.devnull, "w") as nowhere, redirect_stdout(nowhere), redirect_stderr(nowhere):
        yield


@click.group(
    "dhrun",
    cls=Group,
    epilog=examples(
        "dhrun run examples/src/add.py:add -p a=40 -p b=2",
        "dhrun get runs",
        "dhrun logs 1a2b3c4d",
        "dhrun exec add",
        "dhrun info",
    ),
)
@project_option(default=lambda: os.environ.get("DIGITALHUB_PROJECT", "default"))
def main() -> None:
    """Run Python functions as jobs or services and inspect what they did.

    Entities live in the store `dhrun info` shows. Options such as --project go before or after the subcommand.
    """


RUN_EPILOG = examples(
    "dhrun run examples/src/add.py:add -p a=40 -p b=2",
    "dhrun run app:pkg.mod:train --timeout 60        # stop waiting after a minute",
    "dhrun run train.py:train --no-wait              # start it, then: dhrun logs ID",
    "dhrun run svc.py:predict --action serve --init-param scale=2",
    "dhrun run train.py:train --action build -r requirements.txt --instruction 'apt-get install -y libgomp1'",
    "dhrun run train.py:train --schedule '0 3 * * *'  # Kubernetes: a new run every night, until stopped",
) + (
    "\n\n\b\nExit codes:\n"
    "  0    the job or build COMPLETED (a serve run: it serves)\n"
    "  1    the run ended in ERROR or was STOPPED\n"
    "  2    bad usage or spec: nothing ran\n"
    "  3    --timeout reached: the run goes on (stopped with --stop-on-timeout)\n"
    "  130  interrupted while waiting: the run goes on"
)


@main.command(epilog=RUN_EPILOG)
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
@click.option("--python-version", help="PYTHON3_11 ... PYTHON3_14 (default: this interpreter)")
@click.option("--base-image", help="Build: the image to build FROM (default: the runtime image of the Python version)")
@click.option(
    "--instruction",
    "instructions",
    multiple=True,
    metavar="COMMAND",
    help="Build: a shell command run in the image, as root (a RUN line)",
)
@click.option("--requirement", "requirements", multiple=True, help="A requirement of the function")
@click.option(
    "-r",
    "--requirements-file",
    type=click.Path(dir_okay=False, exists=True),
    help="A requirements file: its requirements are the function's (with any --requirement)",
)
@click.option(
    "--subprocess",
    "subprocess_",
    is_flag=True,
    help="Run the job in a child process, as a pod would (the default is this process)",
)
@click.option(
    "--wait/--no-wait",
    default=True,
    show_default=True,
    help="--no-wait: start the job (here: in a child process, which goes on after dhrun returns); print its id",
)
@click.option(
    "--timeout",
    type=float,
    metavar="SECONDS",
    help="Wait at most SECONDS, then exit 3; the job runs in a child process, so it can go on",
)
@click.option("--stop-on-timeout", is_flag=True, help="With --timeout: stop the run when the time is up")
@click.option(
    "--schedule",
    metavar="CRON",
    help="Kubernetes: run the job each time CRON fires ('0 3 * * *', '@daily'), until `dhrun stop RUN`",
)
@project_option(default=None)
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
    base_image: str | None,
    instructions: tuple[str, ...],
    requirements: tuple[str, ...],
    requirements_file: str | None,
    subprocess_: bool,
    wait: bool,
    timeout: float | None,
    stop_on_timeout: bool,
    schedule: str | None,
) -> None:
    """Run TARGET (PATH:HANDLER, e.g. src/add.py:add) and show its results; with --action serve, its URL; with
    --action build, the image made for it (here: by the Docker engine DOCKER_HOST names, see docs/builds.md).

    A job runs in this process unless --subprocess, --no-wait or --timeout is given: then it runs in a child
    process, which dhrun can stop waiting for, with its requirements installed in its own environment (see
    `dhrun env`). Its output and a failure's traceback are in `dhrun logs RUN`.
    """
    if target:
        code_src, handler = split_target(target)
    if not code_src or not handler:
        raise click.UsageError("give TARGET as PATH:HANDLER, or --code-src and --handler")
    if action == "serve" and (not wait or timeout is not None):
        raise click.UsageError("--no-wait and --timeout are for jobs: a serve run returns once it serves or failed")
    if action == "build" and (not wait or timeout is not None or subprocess_):
        raise click.UsageError("--no-wait, --timeout and --subprocess are for jobs: a build returns once it ended")
    if instructions and action != "build":
        raise click.UsageError("--instruction is for --action build")
    if stop_on_timeout and timeout is None:
        raise click.UsageError("--stop-on-timeout needs --timeout SECONDS")
    if schedule is not None and (action != "job" or timeout is not None or subprocess_):
        raise click.UsageError("--schedule is for jobs and returns once scheduled: drop --timeout and --subprocess")
    in_child = subprocess_ or not wait or timeout is not None
    listed = read_requirements_file(requirements_file) if requirements_file else []
    spec: dict[str, Any] = {"code_src": code_src, "handler": handler, "requirements": [*listed, *requirements]}
    if python_version:
        spec["python_version"] = python_version
    if base_image:
        spec["base_image"] = base_image
    project = current_project(ctx)
    function = project.new_function(name=name or handler.rpartition(":")[2].lower(), **spec)
    extra: dict[str, Any] = {"envs": parse_pairs(envs, "--env", False)}
    if init_params:
        extra["init_parameters"] = parse_pairs(init_params, "--init-param", True)
    if instructions:
        extra["instructions"] = list(instructions)
    if schedule is not None:
        extra["schedule"] = schedule
    spinner = Console(file=sys.stderr)  # bound now: muted() below must not swallow it
    with spinner.status(f"running {function.name} ({action})...", spinner="dots"):
        with muted() if action == "job" and not in_child else nullcontext():
            result = function.run(
                action,
                parameters=parse_pairs(params, "--param", True),
                inputs=parse_pairs(inputs, "--input", False),
                outputs=parse_pairs(outputs, "--output", False),
                isolation="subprocess" if in_child else "inprocess",
                **extra,
            )
        if schedule is not None:
            hint = follow_hint(ctx, result, "describe", "stop")
            console.print(f"run {short(result)} scheduled ({escape(schedule)}); {escape(hint)}", soft_wrap=True)
            return
        if not wait:
            hint = follow_hint(ctx, result, "logs", "describe")
            console.print(f"run {short(result)} started in a child process; follow it: {escape(hint)}", soft_wrap=True)
            return
        try:
            if not is_final(result.status.state):
                result.wait(timeout)
        except TimeoutError:
            if stop_on_timeout:
                result.stop()
                say(
                    "timeout",
                    f"run {short(result)} stopped after {timeout:g} s (--stop-on-timeout); "
                    f"its logs: {follow_hint(ctx, result, 'logs')}",
                )
            else:
                say(
                    "timeout",
                    f"run {short(result)} still {result.refresh().status.state} after {timeout:g} s, "
                    f"and it goes on; follow it: {follow_hint(ctx, result, 'logs', 'describe')}",
                )
            ctx.exit(EXIT_TIMEOUT)
        except KeyboardInterrupt:
            hint = follow_hint(ctx, result, "logs", "stop")
            say("interrupted", f"run {short(result)} goes on in its child process; {hint}")
            ctx.exit(EXIT_INTERRUPTED)
    show_outcome(ctx, result)
    if result.status.state in (State.ERROR, State.STOPPED):
        ctx.exit(EXIT_FAILED)


@main.command(
    epilog=examples(
        "dhrun get runs                               # the newest 50",
        "dhrun get runs --state ERROR --since 2h",
        "dhrun get runs --function train --limit 200",
        "dhrun get runs --all -o json > runs.json     # every run, written as it is read",
        "dhrun get functions --all-versions -o json",
        "dhrun get runs -P demo --metrics acc,loss    # compare runs by their metrics",
    )
)
@click.argument("kind", type=click.Choice(sorted(LISTINGS)))
@click.option("--state", type=click.Choice([s.value for s in State]), help="Runs in this state")
@click.option("--function", metavar="NAME|KEY", help="Runs of this function (a key: of that version)")
@click.option("--action", type=click.Choice([a.value for a in Action]), help="Runs of this action")
@click.option("--since", metavar="AGE|TIME", help="Created since: how long ago (30m, 2h, 7d) or an ISO 8601 time")
@click.option("--limit", type=click.IntRange(min=1), default=DEFAULT_LIMIT, show_default=True, help="Show the newest N")
@click.option("--all", "everything", is_flag=True, help="Show every one (-o json|yaml: written as they are read)")
@click.option("--all-versions", is_flag=True, help="Every version, not only the latest")
@click.option(
    "--metrics",
    metavar="NAME,...",
    default="",
    help="Runs: a column per metric, with its last logged value",
)
@click.option(
    "-o", "--output", "output", type=click.Choice(["table", "json", "yaml"]), default="table", show_default=True
)
@project_option(default=None)
@click.pass_context
def get(
    ctx: click.Context,
    kind: str,
    state: str | None,
    function: str | None,
    action: str | None,
    since: str | None,
    limit: int,
    everything: bool,
    all_versions: bool,
    metrics: str,
    output: str,
) -> None:
    """List runs, functions, dataitems, artifacts or models, newest first: the newest 50 unless --limit or --all
    (-o json|yaml: always a list)."""
    names = [name.strip() for name in metrics.split(",") if name.strip()]
    run_options = {"--metrics": names, "--state": state, "--function": function, "--action": action}
    for option, value in run_options.items():
        if value and kind != "runs":
            raise click.BadParameter("it is about runs: use it with `dhrun get runs`", param_hint=option)
    catalog = LISTINGS[kind](current_project(ctx))
    query = catalog.query(
        state=state, function=function, action=action, since=since, versions="all" if all_versions else None
    )
    page = None if everything else catalog.list(query, limit=limit)
    objects: Iterable[EntityObject] = catalog.iterate(query) if page is None else page
    if output == "table":
        console.print(entity_table(kind, list(objects), names))
    else:
        print_listing(objects, output)
    if page is not None and page.continuation is not None:
        footer = f"{len(page):,} of {catalog.count(query):,} · --limit N · --all"
        (console if output == "table" else errors).print(footer, style="dim", highlight=False, soft_wrap=True)


def counted(number: int, noun: str) -> str:
    """``1 run``, ``1,234 runs``."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


@main.command(
    epilog=examples(
        "dhrun prune runs --older-than 30d                  # count what would go: nothing is deleted",
        "dhrun prune runs --older-than 30d --yes            # delete those runs and their logs",
        "dhrun prune runs --keep-last 100 --state COMPLETED --yes",
        "dhrun prune runs --older-than 7d --outputs --yes   # and the outputs no other run uses",
    )
)
@click.argument("kind", type=click.Choice(["runs"]))
@click.option("--older-than", metavar="AGE|TIME", help="Runs created before: how long ago (30d, 12h) or an ISO time")
@click.option(
    "--keep-last", type=click.IntRange(min=0), metavar="N", help="Keep the newest N runs (of --state/--function)"
)
@click.option("--state", type=click.Choice(sorted(s.value for s in FINAL_STATES)), help="Only runs in this state")
@click.option("--function", metavar="NAME|KEY", help="Only runs of this function")
@click.option("--outputs", is_flag=True, help="Also delete what these runs output, unless another run uses it")
@click.option("--yes", is_flag=True, help="Delete them (without it nothing is deleted: the runs are counted)")
@project_option(default=None)
@click.pass_context
def prune(
    ctx: click.Context,
    kind: str,
    older_than: str | None,
    keep_last: int | None,
    state: str | None,
    function: str | None,
    outputs: bool,
    yes: bool,
) -> None:
    """Delete old finished runs with their logs (and with --outputs what they output). Runs still going are
    never pruned. Without --yes this is a dry run: it counts what would be deleted."""
    project = current_project(ctx)
    plan = project.prune_runs(older_than, keep_last, state, function, outputs, dry_run=True)
    what = counted(len(plan.runs), "run") + (f" and {counted(len(plan.outputs), 'output')}" if outputs else "")
    where = f"of project {escape(project.name)}"
    if not yes:
        message = f"would delete {what} {where}: nothing deleted (dry run); add --yes to delete"
        console.print(message, highlight=False, soft_wrap=True)
        return
    console.print(f"deleting {what} {where}", highlight=False)
    from rich.progress import Progress  # here: every other command starts without it

    with Progress(console=errors, transient=True) as progress:
        bar = progress.add_task("deleting", total=len(plan.runs) + len(plan.outputs))
        plan.delete(lambda done: progress.advance(bar, done))
    console.print(f"deleted {what}", highlight=False)


@main.command(epilog=examples("dhrun describe 1a2b3c4d", "dhrun describe store://default/function/python/add -o json"))
@click.argument("ref")
@click.option("-o", "--output", "output", type=click.Choice(["json", "yaml"]), default="yaml", show_default=True)
@project_option(default=None)
@click.pass_context
def describe(ctx: click.Context, ref: str, output: str) -> None:
    """Show one entity in full, with its key: REF is a key, or a run's id or the start of it."""
    print_documents(find_entity(ctx, ref).to_dict(), output)


@main.command(epilog=examples("dhrun logs 1a2b3c4d"))
@click.argument("run_ref", metavar="RUN")
@project_option(default=None)
@click.pass_context
def logs(ctx: click.Context, run_ref: str) -> None:
    """Print a run's captured stdout and stderr (RUN: its id, the start of it, or its key)."""
    click.echo(mask(find_run(ctx, run_ref).logs()), nl=False)


@main.command(epilog=examples("dhrun stop 1a2b3c4d"))
@click.argument("run_ref", metavar="RUN")
@project_option(default=None)
@click.pass_context
def stop(ctx: click.Context, run_ref: str) -> None:
    """Stop a run that has not finished."""
    result = find_run(ctx, run_ref).stop()
    console.print(f"{short(result)}: {styled_state(result.status.state)}")


@main.command(
    epilog=examples(
        "dhrun invoke 1a2b3c4d --json '{\"x\": 1}'     # POST /",
        "dhrun invoke 1a2b3c4d meta                  # GET /meta",
        "dhrun invoke 1a2b3c4d add --data @body.json -X PUT",
    )
)
@click.argument("run_ref", metavar="RUN")
@click.argument("path", default="/")
@click.option("--json", "json_body", metavar="JSON", help="JSON request body")
@click.option("--data", metavar="TEXT|@FILE", help="Raw request body, or @FILE to send a file")
@click.option("--method", "-X", help="HTTP method  [default: POST with a body, else GET]")
@project_option(default=None)
@click.pass_context
def invoke(
    ctx: click.Context, run_ref: str, path: str, json_body: str | None, data: str | None, method: str | None
) -> None:
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
    method = (method or ("POST" if request else "GET")).upper()
    response = find_run(ctx, run_ref).invoke(path, method=method, **request)
    click.echo(response.text)
    if response.is_error:
        ctx.exit(EXIT_FAILED)


@main.command(epilog=examples("dhrun resume 1a2b3c4d"))
@click.argument("run_ref", metavar="RUN")
@project_option(default=None)
@click.pass_context
def resume(ctx: click.Context, run_ref: str) -> None:
    """Bring a stopped serve run back."""
    result = find_run(ctx, run_ref).resume()
    url = result.status.service.url if result.status.service else ""
    console.print(f"{short(result)}: {styled_state(result.status.state)} {escape(url)}")


@main.command(
    "exec",
    epilog=examples(
        "dhrun exec add                        # a new session of function add, ended on leaving",
        "dhrun exec add --session nb           # the session named nb (started if needed), kept on leaving",
        "dhrun exec store://demo/function/python/add:1a2b --media-dir plots",
    ),
)
@click.argument("function_ref", metavar="FUNCTION")
@click.option("--session", "session_name", metavar="NAME", help="Use the session NAME, starting it if needed")
@click.option("--idle-timeout", type=click.IntRange(min=1), metavar="SECONDS", help="A new session ends when idle")
@click.option("-e", "--env", "envs", multiple=True, metavar="NAME=VALUE", help="Environment variable of a new session")
@click.option(
    "--media-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("session-media"),
    show_default=True,
    help="Where images and other media the code shows are saved",
)
@click.option("--keep", is_flag=True, help="Leave a new unnamed session running on exit")
@click.option("--endpoint", metavar="URL", help="Reach the session here (e.g. a kubectl port-forward to its Service)")
@project_option(default=None)
@click.pass_context
def exec_(
    ctx: click.Context,
    function_ref: str,
    session_name: str | None,
    idle_timeout: int | None,
    envs: tuple[str, ...],
    media_dir: Path,
    keep: bool,
    endpoint: str | None,
) -> None:
    """Run Python interactively in a live kernel of FUNCTION (its name, or its key): a session.

    Lines run when complete, as in Python's own prompt (a block ends with an empty line). Ctrl-C interrupts the
    running code, Ctrl-D leaves. Images, HTML and other media are saved under --media-dir and their paths printed.
    """
    from digitalhub_runtime_python.session_prompt import Prompt

    if function_ref.startswith("store://"):
        project = get_project(parse_key(function_ref).project)
        found = project.get_entity(function_ref)
        if not isinstance(found, Function):
            raise NotFound(f"{function_ref} is a {found.entity.ENTITY_TYPE}, not a function")
        function = found
    else:
        project = current_project(ctx)
        function = project.get_function(function_ref)
    options: dict[str, Any] = {"envs": parse_pairs(envs, "--env", False), "endpoint": endpoint}
    if idle_timeout is not None:
        options["idle_timeout"] = idle_timeout
    with Console(file=sys.stderr).status(f"starting a session of {function.name}...", spinner="dots"):
        if session_name:
            session = project.get_or_create_session(session_name, function, **options)
        else:
            session = project.new_session(function, **options)
    say("session", f"{short(session)} of {function.name} ready: Ctrl-C interrupts, Ctrl-D leaves")
    try:
        Prompt(session, media_dir).loop()
    finally:
        if session_name or keep:
            say("session", f"{short(session)} goes on; end it with: {follow_hint(ctx, session, 'stop')}")
        else:
            session.destroy()


@main.command(
    epilog=examples(
        "dhrun ui                                  # http://127.0.0.1:8765/, read only",
        "dhrun ui --actions                        # with stop, resume and invoke buttons",
        "DIGITALHUB_BACKEND=kubernetes dhrun ui    # the namespace of your kubeconfig, as you",
    )
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on")
@click.option(
    "--actions/--read-only",
    default=None,
    help="Offer stop, resume and invoke (default: $DIGITALHUB_CONSOLE_ACTIONS, else read only)",
)
def ui(host: str, port: int, actions: bool | None) -> None:
    """Serve the web console: projects, functions and runs of the configured backend, live, in a browser.

    Actions run with your identity: the store folder, or the kubeconfig you run this with. See docs/console.md.
    """
    require("ui")
    from digitalhub_runtime_python.console.app import serve
    from digitalhub_runtime_python.console.settings import ConsoleSettings

    try:
        settings = ConsoleSettings.from_env(actions=actions)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    mode = "actions on" if settings.actions else "read only"
    say("console", f"http://{host}:{port}/ ({mode}, {Settings.from_env().backend} backend); Ctrl+C stops it")
    serve(get_backend(), settings, host, port)


@main.group(epilog=examples("dhrun env list", "dhrun env prune --unused-for 0 --dry-run"))
def env() -> None:
    """The function environments on this machine: requirements installed with uv, one folder per content key."""


def size_text(size: int) -> str:
    """``1536`` -> ``1.5 KiB``."""
    value = float(size)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def environments_table(entries: Sequence[EnvironmentEntry]) -> Table:
    table = Table(box=None, header_style="bold")
    for column in ("KEY", "PYTHON", "SIZE", "USED", "CREATED"):
        table.add_column(column, no_wrap=True)
    table.add_column("REQUIREMENTS", overflow="fold")
    for entry in entries:
        requirements = escape(", ".join(entry.requirements)) or "(runtime only)"
        table.add_row(
            entry.key, entry.python, size_text(entry.size), age(entry.last_used), age(entry.created), requirements
        )
    return table


@env.command("list", epilog=examples("dhrun env list", "dhrun env list -o json"))
@click.option("-o", "--output", type=click.Choice(["table", "json", "yaml"]), default="table", show_default=True)
def env_list(output: str) -> None:
    """List the environments built here, most recently used first."""
    entries = list_environments()
    if output != "table":
        print_documents([entry.as_dict() for entry in entries], output)
    elif not entries:
        say("env", f"no environments in {environments_folder()}")
    else:
        console.print(environments_table(entries), highlight=False)


@env.command(
    "prune", epilog=examples("dhrun env prune", "dhrun env prune --unused-for 0.5", "dhrun env prune --all --dry-run")
)
@click.option("--unused-for", type=float, default=7.0, show_default=True, metavar="DAYS", help="Unused for DAYS")
@click.option("--all", "all_", is_flag=True, help="Every environment (those in use or being built are kept)")
@click.option("--dry-run", is_flag=True, help="Show what would be removed, remove nothing")
def env_prune(unused_for: float, all_: bool, dry_run: bool) -> None:
    """Remove environments not used for a while, and what interrupted builds left behind."""
    removed = prune_environments(None if all_ else timedelta(days=unused_for), dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    if removed:
        console.print(environments_table(removed), highlight=False)
    freed = size_text(sum(entry.size for entry in removed))
    say("env", f"{verb} {len(removed)} environment(s), {freed}")


@main.command(epilog=examples("dhrun crds | kubectl apply -f -", "dhrun crds charts/digitalhub/crds"))
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
def crds(folder: Path | None) -> None:
    """Print the CRDs generated from the models (YAML documents for kubectl), or write them into FOLDER."""
    from digitalhub_runtime_python.models.crds import render_crds, write_crds

    if folder is None:
        click.echo("---\n".join(render_crds().values()), nl=False)
        return
    for path in write_crds(folder):
        click.echo(path)


@main.command(epilog=examples("dhrun info", "DIGITALHUB_HOME=/tmp/hub dhrun info"))
@project_option(default=None)
@click.pass_context
def info(ctx: click.Context) -> None:
    """Show the backend, where the store is, the project, the versions and the extras installed."""
    settings = Settings.from_env()
    table = Table(box=None, show_header=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    table.add_row("backend", settings.backend)
    home = escape(f"{settings.home} ({locate_home()[1]})")
    if settings.backend == "local":
        table.add_row("store", home)
    else:
        table.add_row("store", f"custom resources in namespace {settings.namespace or '(of the kubeconfig context)'}")
        table.add_row("cache", home)
    table.add_row("project", escape(ctx.meta[PROJECT_KEY]))
    version = installed_version() or "(not installed: run from source)"
    table.add_row("version", f"{DISTRIBUTION} {version}, Python {platform.python_version()}")
    for extra in EXTRAS:
        absent = missing_modules(extra)
        table.add_row(
            f"extra {extra}", escape(f"missing {', '.join(absent)}: {install_command(extra)}") if absent else "yes"
        )
    console.print(table, highlight=False)


def run_cli() -> None:
    """Entry point of the ``dhrun`` script."""
    main()


if __name__ == "__main__":
    run_cli()
