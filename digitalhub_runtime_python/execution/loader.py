"""Import a handler from fetched code: ``fn`` from the entry file, or ``pkg.mod:fn`` from the tree."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from digitalhub_runtime_python.sources.base import CodeTree


class HandlerError(ImportError):
    """The handler could not be imported; the message says where and why."""


_FILE_MODULES: dict[tuple[Path, int, int], ModuleType] = {}


def _load_file(path: Path) -> ModuleType:
    """Import a .py file as a module, reusing it while the file is unchanged."""
    stat = path.stat()
    cache_key = (path, stat.st_mtime_ns, stat.st_size)
    module = _FILE_MODULES.get(cache_key)
    if module is None:
        spec = importlib.util.spec_from_file_location(f"digitalhub_code_{abs(hash(cache_key)):x}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _FILE_MODULES[cache_key] = module
    return module


def _forget_foreign(module_name: str, root: Path) -> None:
    """Drop a same-named module imported earlier from another tree, so this tree's module is imported."""
    top = module_name.split(".")[0]
    loaded = sys.modules.get(top)
    origin = getattr(loaded, "__file__", None)
    if loaded is not None and (origin is None or root not in Path(origin).resolve().parents):
        for name in [n for n in sys.modules if n == top or n.startswith(top + ".")]:
            del sys.modules[name]


def load_handler(tree: CodeTree, handler: str) -> Callable[..., Any]:
    """The callable named by ``handler`` inside ``tree``, with the tree on sys.path for its own imports."""
    root = str(tree.root)
    if root not in sys.path:
        sys.path.insert(0, root)
    module_name, _, attribute = handler.rpartition(":")
    try:
        if module_name:
            _forget_foreign(module_name, tree.root)
            module = importlib.import_module(module_name)
        elif tree.entry is not None:
            module = _load_file(tree.entry)
        else:
            raise HandlerError(
                f"handler {handler!r}: the code is a folder, so name the module too, e.g. 'main:{handler}'"
            )
    except HandlerError:
        raise
    except SyntaxError as exc:
        raise HandlerError(
            f"handler {handler!r}: syntax error in {exc.filename}, line {exc.lineno}: {exc.msg}"
        ) from exc
    except ImportError as exc:
        raise HandlerError(f"handler {handler!r}: cannot import module ({exc})") from exc
    func = getattr(module, attribute, None)
    if func is None:
        raise HandlerError(f"handler {handler!r}: no {attribute!r} in {getattr(module, '__file__', module_name)}")
    if not callable(func):
        raise HandlerError(f"handler {handler!r}: {attribute!r} is a {type(func).__name__}, not a function")
    return func
