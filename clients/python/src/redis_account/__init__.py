"""Drop-in async AccountManager on the redis-account Redis module."""
from .errors import (
    AccountError,
    CorruptDocument,
    InsufficientResource,
    InvalidArgument,
    InvalidDocument,
    MetricOverflow,
    ModuleInternalError,
    NoAccount,
    StateConflict,
    UnknownPath,
    WrongType,
)
from .manager import AccountManager

__all__ = [
    "AccountManager",
    "AccountError",
    "CorruptDocument",
    "InsufficientResource",
    "InvalidArgument",
    "InvalidDocument",
    "MetricOverflow",
    "ModuleInternalError",
    "NoAccount",
    "StateConflict",
    "UnknownPath",
    "WrongType",
]
