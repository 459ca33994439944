"""The module's error codes as typed exceptions.

Every exception is a ``redis.exceptions.ResponseError``, so code that already catches that keeps
working; catch the specific class to react to one condition.
"""
from __future__ import annotations

from redis.exceptions import ResponseError


class AccountError(ResponseError):
    """An error reply of the redis-account module. ``code`` is its first word."""

    code = ""


class NoAccount(AccountError):
    """NOACCOUNT: a write needs an account that does not exist."""

    code = "NOACCOUNT"


class InsufficientResource(AccountError):
    """INSUFFICIENT: ACCOUNT.SPEND without enough of the vital."""

    code = "INSUFFICIENT"


class StateConflict(AccountError):
    """STATECONFLICT: a transition with ``expected`` found another state."""

    code = "STATECONFLICT"


class InvalidDocument(AccountError):
    """SCHEMA, INVALIDJSON, LOBBY or LIMIT: the data sent breaks the schema or a limit."""

    code = "SCHEMA"


class CorruptDocument(AccountError):
    """CORRUPT: the stored document was changed behind the module's back."""

    code = "CORRUPT"


class UnknownPath(AccountError):
    """NOPATH: a dotted path the schema does not have."""

    code = "NOPATH"


class InvalidArgument(AccountError):
    """BADNUMBER or SYNTAX: an amount, stat or option that is not accepted."""

    code = "BADNUMBER"


class MetricOverflow(AccountError):
    """OVERFLOW: an increment would leave the signed 64-bit range."""

    code = "OVERFLOW"


class WrongType(AccountError):
    """WRONGTYPE: the key holds something else."""

    code = "WRONGTYPE"


class ModuleInternalError(AccountError):
    """INTERNAL: a bug in the module was caught; nothing was changed."""

    code = "INTERNAL"


class JsonNotLoaded(AccountError):
    """NOJSON: the server has no RedisJSON loaded; nothing was read or changed."""

    code = "NOJSON"


_BY_CODE: dict[str, type[AccountError]] = {
    "NOACCOUNT": NoAccount,
    "INSUFFICIENT": InsufficientResource,
    "STATECONFLICT": StateConflict,
    "SCHEMA": InvalidDocument,
    "INVALIDJSON": InvalidDocument,
    "LOBBY": InvalidDocument,
    "LIMIT": InvalidDocument,
    "CORRUPT": CorruptDocument,
    "NOPATH": UnknownPath,
    "BADNUMBER": InvalidArgument,
    "SYNTAX": InvalidArgument,
    "OVERFLOW": MetricOverflow,
    "WRONGTYPE": WrongType,
    "INTERNAL": ModuleInternalError,
    "NOJSON": JsonNotLoaded,
}


def translate(err: ResponseError) -> ResponseError:
    """The typed exception for a module error reply; other errors are returned unchanged."""
    if isinstance(err, AccountError):
        return err
    text = str(err)
    code = text.split(" ", 1)[0]
    cls = _BY_CODE.get(code)
    if cls is None:
        # redis-py maps WRONGTYPE itself to a plain ResponseError with the text kept.
        return err
    e = cls(text)
    e.code = code
    return e
