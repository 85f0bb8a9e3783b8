"""A function image's build context: its Dockerfile, its requirements and, unless runs fetch it, its code.

The same step makes the context for a local engine (in the SDK's process) and in a build pod, where an image
builder (Kaniko, BuildKit) reads it from a volume: the code comes from any source a run fetches from (local
path, inline, git+https, zip+s3, s3, http), with the credentials of the environment.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from digitalhub_runtime_python.builds.dockerfile import (
    CODE_FOLDER,
    REQUIREMENTS_FILE,
    BuildError,
    CodeLayer,
    ImageRecipe,
    check_instructions,
    render_dockerfile,
)
from digitalhub_runtime_python.builds.settings import BuildSettings, BuildSettingsError
from digitalhub_runtime_python.contract import code_fingerprint, image_reference
from digitalhub_runtime_python.environments.keys import INDEX_VARIABLES
from digitalhub_runtime_python.environments.requirements import RequirementError, normalize_requirements
from digitalhub_runtime_python.extras import installed_version
from digitalhub_runtime_python.models.function import Function, PythonVersion
from digitalhub_runtime_python.sources.base import SourceError
from digitalhub_runtime_python.sources.materialize import materialize

DOCKERFILE = "Dockerfile"
NOT_COPIED = (".git", "__pycache__", "*.pyc", ".digitalhub", ".venv", "venv", "node_modules")
"""What a copied code tree leaves out: version control, caches, stores and environments."""
PROBLEMS = (BuildError, BuildSettingsError, RequirementError, SourceError)
"""What keeps a build context from being made, each with a message that says what to fix."""


@dataclass(frozen=True)
class BuildContext:
    """A folder ready for a builder, and what it builds."""

    folder: Path
    image: str
    dockerfile: str


def runtime_version() -> str:
    """The version of this runtime, which function images install."""
    installed = installed_version()
    if installed is not None:
        return installed
    from tomllib import loads  # a source tree: its pyproject.toml says

    project = Path(__file__).resolve().parents[2] / "pyproject.toml"
    return str(loads(project.read_text())["project"]["version"])


def image_of(function: Function, settings: BuildSettings) -> str:
    """The reference a build of ``function`` gives its image."""
    return settings.image or image_reference(settings.registry, function.project, function.name, function.id)


def _copy_code(function: Function, cache_dir: Path, target: Path) -> CodeLayer:
    tree = materialize(function.spec, cache_dir)
    shutil.copytree(tree.root, target, symlinks=True, ignore=shutil.ignore_patterns(*NOT_COPIED))
    entry = tree.entry.relative_to(tree.root).as_posix() if tree.entry is not None else None
    return CodeLayer(code_fingerprint(function.spec), entry)


def write_context(
    function: Function,
    instructions: tuple[str, ...],
    settings: BuildSettings,
    environ: Mapping[str, str],
    folder: Path,
    cache_dir: Path,
) -> BuildContext:
    """Fill ``folder`` (empty or absent) with the build context of ``function``'s image.

    Raises BuildError (base image, instructions, index credentials), RequirementError and SourceError (the
    code cannot be fetched), each naming what to fix.
    """
    instructions = check_instructions(instructions)
    folder.mkdir(parents=True, exist_ok=True)
    python = PythonVersion(function.spec.python_version).dotted
    requirements = normalize_requirements(function.spec.requirements)
    code = _copy_code(function, cache_dir, folder / CODE_FOLDER) if settings.code == "copy" else None
    recipe = ImageRecipe(
        base_image=function.spec.base_image or settings.base_for(python),
        python=python,
        runtime=settings.runtime_requirement(runtime_version()),
        uv=metadata.version("uv"),
        index=tuple((name, environ[name]) for name in INDEX_VARIABLES if environ.get(name)),
        requirements=requirements,
        instructions=instructions,
        code=code,
        title=f"function {function.project}/{function.name} ({function.id})",
    )
    dockerfile = render_dockerfile(recipe)
    (folder / DOCKERFILE).write_text(dockerfile)
    if requirements:
        (folder / REQUIREMENTS_FILE).write_text("".join(f"{line}\n" for line in requirements))
    return BuildContext(folder, image_of(function, settings), dockerfile)
