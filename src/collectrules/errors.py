"""The one exception root of collectrules, and its subclasses.

Every error the library raises on purpose derives from :class:`CollectRulesError`.
Subclasses mix in the builtin exception that fits (``ValueError`` for bad input,
``RuntimeError`` for engine failures), and carry the offending location as attributes,
so that callers can report it without parsing the message.
"""

from __future__ import annotations

import builtins
import difflib
import errno
import os
import re
import reprlib
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

__all__ = [
    "MAX_LISTED_PROBLEMS",
    "MAX_WHERE_LENGTH",
    "QUOTE_LIMIT",
    "CollectRulesError",
    "ConditionError",
    "EngineError",
    "EngineLimitError",
    "EngineUnavailableError",
    "FieldProblem",
    "InputError",
    "OutOfMemoryError",
    "OutputError",
    "PolicyError",
    "RuleActionError",
    "UnwritableError",
    "did_you_mean",
    "figure",
    "quote",
]

#: The most characters of a bad value that an error message quotes; longer values are
#: cut, and end with an ellipsis.
QUOTE_LIMIT = 200

#: The most problems an :class:`InputError` lists in its message; all of them stay in
#: its ``problems`` attribute.
MAX_LISTED_PROBLEMS = 20


class _BoundedRepr(reprlib.Repr):
    """``reprlib`` with bounds on every type: no deep recursion, no huge integers."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.maxlevel = 3
        self.maxstring = limit
        self.maxother = limit
        self.maxlong = 40
        self.maxlist = self.maxtuple = self.maxset = self.maxfrozenset = self.maxdeque = 6
        self.maxdict = 6

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 128:  # beyond int-to-text limits long before they bite
            sign = "negative " if x < 0 else ""
            return f"<{sign}integer of about {int(x.bit_length() * 0.30103) + 1} digits>"
        return super().repr_int(x, level)

    def repr_instance(self, x: object, level: int) -> str:
        # An attrs object as its repr writes it, each field bounded as any value: its
        # own repr writes its fields whole (a list held a thousand times in a field is
        # a billion items to write).
        cls = type(x)
        if attrs.has(cls) and _attrs_repr(cls):
            if level <= 0:
                return f"{cls.__qualname__}(...)"
            shown = [
                f"{f.name}={self._field(x, f.name, level - 1)}"
                for f in attrs.fields(cls)[: self.maxdict]
                if f.repr
            ]
            more = ", ..." if len(attrs.fields(cls)) > self.maxdict else ""
            return f"{cls.__qualname__}({', '.join(shown)}{more})"
        # A foreign object's own repr, when it is one short line that depends on the
        # value alone. Otherwise its type only: a repr that fails, one of several lines
        # (a pandas or Polars frame), or one with a memory address (``<… at 0x7f…>``),
        # which would make the same error differ from run to run.
        try:
            text = builtins.repr(x)
        except Exception:
            return f"<{type(x).__name__}>"
        if "\n" in text or "\r" in text or _ADDRESS.search(text):
            return f"<{type(x).__name__}>"
        if len(text) > self.maxother:
            i = max(0, (self.maxother - 3) // 2)
            j = max(0, self.maxother - 3 - i)
            text = text[:i] + "..." + text[len(text) - j :]
        return text

    def _field(self, x: object, name: str, level: int) -> str:
        """One field of an attrs object, bounded; ``<?>`` when reading it fails."""
        try:
            return self.repr1(getattr(x, name), level)
        except Exception:
            return "<?>"


def _attrs_repr(cls: type) -> bool:
    """Whether ``cls`` has the repr attrs writes (not one of its own)."""
    code = getattr(cls.__repr__, "__code__", None)
    return code is not None and code.co_filename.startswith("<attrs generated")


#: A memory address in a repr (``<Foo object at 0x7f3a…>``).
_ADDRESS = re.compile(r"\bat 0x[0-9a-fA-F]+")


def quote(value: object, *, limit: int = QUOTE_LIMIT) -> str:
    """``repr(value)`` for an error message, at most about ``limit`` characters long.

    Safe on any input: a 1 MB string, a 5,000-deep list or a 10,000-digit integer each
    give a short text ending in an ellipsis, in time proportional to ``limit``.
    """
    text = _BoundedRepr(limit).repr(value)
    return text if len(text) <= limit + 3 else text[:limit] + "…"


def figure(value: int) -> str:
    """An integer for an error message, with thousands separators (``1,000,001``); one
    with more digits than Python writes as text (4,300 by default) is quoted short, as
    :func:`quote` quotes it, where formatting it would raise ``ValueError``."""
    if type(value) is int and -(10**60) < value < 10**60:
        return f"{value:,}"
    return quote(value)  # anything else as well: an error message never fails


def did_you_mean(name: str, known: Iterable[str]) -> str | None:
    """Return the known name closest to ``name``, or ``None`` when none is close.

    The name is a plain ``str`` even when ``known`` holds ``StrEnum`` members (a
    catalogue of remedies or products), so that a message quotes ``'loan'``.
    """
    matches = difflib.get_close_matches(name, sorted(map(str, known)), n=1, cutoff=0.6)
    return matches[0] if matches else None


@attrs.frozen
class FieldProblem:
    """One invalid field: where it is and what was expected.

    ``path`` is a dotted path such as ``signals[2].observed_at``; ``source`` names the
    file (and line, when known) that the value came from.
    """

    path: str
    message: str
    source: str | None = None
    line: int | None = None
    suggestion: str | None = None

    def __str__(self) -> str:
        # Each field quoted when it is not a text: a message built from what a caller
        # gave must not fail.
        where = ""
        if self.source is not None:
            source = _shortened(_as_text(self.source))
            where = source if self.line is None else f"{source}:{_as_text(self.line)}"
            where += ": "
        hint = f" (did you mean {quote(_as_text(self.suggestion))}?)" if self.suggestion else ""
        path = f"{_shortened(_as_text(self.path))}: " if self.path else ""
        return f"{where}{path}{_as_text(self.message)}{hint}"


#: The longest source or path a message writes whole: a file path is at most 4,096
#: bytes on Linux; a longer one (a policy "name" of 100,000 characters) is no file's.
MAX_WHERE_LENGTH = 4_096


def _shortened(text: str) -> str:
    """``text``, its middle cut out past :data:`MAX_WHERE_LENGTH` characters."""
    if len(text) <= MAX_WHERE_LENGTH:
        return text
    half = MAX_WHERE_LENGTH // 2
    return f"{text[:half]}…({len(text) - 2 * half:,} characters)…{text[-half:]}"


class CollectRulesError(Exception):
    """The root of every error that collectrules raises on purpose.

    Every one pickles whole (its message and its attributes), so that an error raised
    in a worker process reaches the caller as it was raised.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore_error, (type(self), self.args, dict(self.__dict__)))


def _restore_error(
    cls: type[CollectRulesError], args: tuple[Any, ...], state: dict[str, Any]
) -> CollectRulesError:
    """The error ``cls`` with ``args`` and the attributes ``state``, without running its
    own ``__init__`` (whose signature differs from the arguments it passes on)."""
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


def _as_text(value: object) -> str:
    """``value`` when it is a ``str``; anything else quoted (an error's message is built
    from what the caller gave, and building it must not fail)."""
    return value if isinstance(value, str) else quote(value)


def _as_problems(problems: object) -> tuple[FieldProblem, ...]:
    """``problems`` as field problems: a text or a lone problem is one; each item that is
    not a :class:`FieldProblem` becomes one with its text as the message."""
    if isinstance(problems, FieldProblem):
        return (problems,)
    if isinstance(problems, str) or not isinstance(problems, Iterable):
        return (FieldProblem("", _as_text(problems)),)
    return tuple(
        p if isinstance(p, FieldProblem) else FieldProblem("", _as_text(p)) for p in problems
    )


class InputError(CollectRulesError, ValueError):
    """Invalid input: a case, a signal, an event, a date or an argument.

    ``problems`` lists every invalid field, not only the first. Building the error never
    fails: a text given for ``problems``, or an item that is not a
    :class:`FieldProblem`, becomes a problem with no path whose message is its text.
    """

    def __init__(self, problems: Sequence[FieldProblem], *, subject: str = "input") -> None:
        self.problems: tuple[FieldProblem, ...] = _as_problems(problems)
        self.subject = subject = _as_text(subject)
        if len(self.problems) == 1:
            msg = str(self.problems[0])
        else:
            shown = self.problems[:MAX_LISTED_PROBLEMS]
            lines = "\n".join(f"  - {p}" for p in shown)
            more = len(self.problems) - len(shown)
            if more:
                lines += f"\n  - … and {more} more"
            msg = f"{len(self.problems)} problems in {subject}:\n{lines}"
        super().__init__(msg)

    @property
    def paths(self) -> tuple[str, ...]:
        """The paths of the invalid fields, in the order found."""
        return tuple(p.path for p in self.problems)


class PolicyError(InputError):
    """A policy file or policy object that cannot be loaded: syntax, schema or semantics."""

    def __init__(self, problems: Sequence[FieldProblem], *, subject: str = "policy") -> None:
        super().__init__(problems, subject=subject)


class UnwritableError(InputError, TypeError):
    """A value that cannot be written as JSON: an object JSON has no form for, a
    container that holds itself, text UTF-8 cannot hold (a lone surrogate). Raised by
    ``Decision.to_json`` and ``to_json_bytes`` on a decision built by hand with such a
    value; its problem's path names where the value is (``facts.x``, ``trace[2].reason``).

    It is also a ``TypeError`` and a ``ValueError``: code that caught what ``json.dumps``
    raised for such a value catches it still.
    """


class ConditionError(CollectRulesError, ValueError):
    """A condition that cannot be parsed or type-checked.

    ``column`` is 1-based, within ``text``; ``field`` names the offending field when
    there is one, and ``suggestion`` the closest known field. A ``message`` that is not
    text is quoted.
    """

    def __init__(
        self,
        message: str,
        *,
        text: str | None = None,
        column: int | None = None,
        field: str | None = None,
        suggestion: str | None = None,
    ) -> None:
        message = _as_text(message)
        self.text = text
        self.column = column
        self.field = field
        self.suggestion = suggestion
        self.reason = message
        parts = [message]
        if suggestion:
            parts.append(f"(did you mean {quote(suggestion)}?)")
        if column is not None:
            parts.append(f"at column {column if type(column) is int else quote(column)}")
        full = " ".join(parts)
        if text is not None:
            full = f"{full} in {quote(text)}"
        super().__init__(full)


class EngineError(CollectRulesError, RuntimeError):
    """The rules engine failed."""

    @classmethod
    def internal(cls, exc: BaseException) -> EngineError:
        """A failure that is no :class:`CollectRulesError` (a section plug-in's own bug,
        say) as one row's error, worded as ``Engine.decide_many`` words it: ``internal
        error: RuntimeError: …``."""
        return cls(f"internal error: {type(exc).__name__}: {str(exc)[:300]}")


class EngineUnavailableError(EngineError):
    """The durable_rules engine cannot be imported on this interpreter."""


class EngineLimitError(EngineError):
    """A compiled policy would exceed one of durable_rules' measured limits.

    ``limit`` names the limit, ``value`` the policy's figure and ``maximum`` the bound.
    """

    def __init__(self, message: str, *, limit: str, value: int, maximum: int) -> None:
        self.limit = limit
        self.value = value
        self.maximum = maximum
        super().__init__(message)


class RuleActionError(EngineError):
    """A rule's action raised inside the engine; ``rule_id`` names the rule."""

    def __init__(self, rule_id: str, cause: str) -> None:
        self.rule_id = rule_id
        self.cause = cause
        super().__init__(f"rule {quote(rule_id)} failed in its action: {_as_text(cause)}")


class OutOfMemoryError(CollectRulesError, MemoryError):
    """The process ran out of memory: what the machine lacks, not what a row holds.

    Raised where a ``MemoryError`` met while deciding a row would otherwise be blamed on
    the row (``Engine.decide_many``, ``Engine.worklist``, the batch, the columnar
    engine and the Spark engine's per-case step); the ``MemoryError`` is its cause (on
    the Spark driver, the failed job). Also a ``MemoryError``, so code that
    catches the builtin still catches it.
    """

    @classmethod
    def of(cls, exc: MemoryError) -> OutOfMemoryError:
        """``exc`` as an :class:`OutOfMemoryError` (itself when it already is one)."""
        if isinstance(exc, OutOfMemoryError):
            return exc
        said = str(exc).strip()
        return cls(f"out of memory ({said[:120]})" if said else "out of memory")


def foreign_failure(exc: Exception) -> CollectRulesError:
    """An exception that is no :class:`CollectRulesError` (a section plug-in's own bug,
    say), met while deciding one case, as the error the library's entry points raise:
    :class:`OutOfMemoryError` for a ``MemoryError``, otherwise
    :meth:`EngineError.internal` (``internal error: RuntimeError: …``)."""
    if isinstance(exc, MemoryError):
        return OutOfMemoryError.of(exc)
    return EngineError.internal(exc)


class OutputError(CollectRulesError, OSError):
    """Writing an output failed: a full disk, a missing folder, no permission.

    ``path`` names the file (or, for a temporary file without a name, its folder);
    ``reason`` says what the system reported. Of a batch's outputs, whatever was
    written stays in ``*.partial`` files that never look complete; a worklist's sorted
    runs (:class:`~collectrules.operations.Worklist`) are temporary files that vanish.
    Also an ``OSError``, with the system's ``errno``.
    """

    def __init__(self, path: os.PathLike[str] | str, exc: OSError) -> None:
        self.path = path
        self.reason = reason = _reason(exc)
        code = exc.errno if isinstance(exc, OSError) and isinstance(exc.errno, int) else 0
        super().__init__(code, f"cannot write {_path_text(path)}: {reason}")

    def __str__(self) -> str:
        return f"cannot write {_path_text(self.path)}: {self.reason}"


def _path_text(path: object) -> str:
    """A path as an error names it: a ``str`` or a path object as it is, anything else
    quoted (building the message must not fail, nor take long)."""
    if isinstance(path, str):
        return path
    try:
        return _as_text(os.fsdecode(path)) if isinstance(path, os.PathLike) else quote(path)
    except Exception:  # a path object whose __fspath__ fails or gives no text
        return quote(path)


def _reason(exc: object) -> str:
    """What the system reported, in words; given anything but an ``OSError`` (a caller
    building the error itself), that thing as text."""
    if not isinstance(exc, OSError):
        return exc if isinstance(exc, str) else quote(exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the disk is full (no space left on device)"
    if exc.errno == errno.EFBIG:
        return "the file is too large for this system or its limits"
    told = exc.strerror if isinstance(exc.strerror, str) and exc.strerror else None
    return (told or type(exc).__name__).lower()
