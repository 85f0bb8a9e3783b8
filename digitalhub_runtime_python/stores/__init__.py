"""Entity persistence: the Store interface, the embedded SQLite backend and file stores."""

from .base import AlreadyExists, LogRecord, NotFound, Store, apply_transition, entity_class
from .files import FileStore, LocalFiles, file_info, file_store_for, register_scheme
from .kubernetes import KubernetesStore
from .local import LocalStore
from .s3 import S3Files

register_scheme("s3", S3Files)

__all__ = [
    "AlreadyExists",
    "FileStore",
    "KubernetesStore",
    "LocalFiles",
    "LocalStore",
    "LogRecord",
    "NotFound",
    "S3Files",
    "Store",
    "apply_transition",
    "entity_class",
    "file_info",
    "file_store_for",
    "register_scheme",
]
