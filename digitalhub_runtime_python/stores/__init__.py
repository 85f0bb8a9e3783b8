"""Entity persistence: the Store interface, the embedded SQLite backend and file stores."""

from .base import AlreadyExists, LogRecord, NotFound, Store, apply_transition, entity_class
from .files import FileStore, LocalFiles, file_info, file_store_for, register_scheme
from .kubernetes import KubernetesStore
from .local import LocalStore

__all__ = [
    "AlreadyExists", "FileStore", "KubernetesStore", "LocalFiles", "LocalStore", "LogRecord", "NotFound", "Store",
    "apply_transition", "entity_class", "file_info", "file_store_for", "register_scheme",
]
