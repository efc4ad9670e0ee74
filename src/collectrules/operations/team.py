"""The team file: which owner takes which worklist lines, and how many.

A team file is TOML with one ``[[owner]]`` table per collector or role, in order::

    [[owner]]
    id = "li.na"                # who, as the lender's own systems name them
    role = "collector"          # optional, shown on each line
    capacity = 40               # optional: at most this many lines a day
    quadrants = ["Q1", "Q2"]    # optional segment filters, all must match
    buckets = { M = ["M1", "M2"] }    # bucket set -> buckets
    step_roles = ["collector"]  # the steps' owner roles (the [timeline] stage's owner)
    channels = ["phone", "sms"] # worklist channels (docs/howto-worklist.md)
    min_amount = "0"            # overdue amount, at least (inclusive)
    max_amount = "50000"        # overdue amount, below (exclusive)

A line goes to the **first** owner, in file order, whose every filter matches; a
filter that is left out matches everything. A line that no owner matches goes to the
owner ``unassigned`` (no capacity), so nothing falls through the team file unseen.

The ``step_roles`` are the policy's to know: when a worklist is built with a team
(:meth:`Team.check_step_roles`), a role that no stage of the policy has is an error
naming the file, the line and the key, with the role it may be a misspelling of.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import attrs

from collectrules import _json as strict_json
from collectrules._arguments import require_named_path, require_texts, source_name
from collectrules._files import MAX_SMALL_FILE_BYTES, UnreadableFile, read_small_file
from collectrules._number_text import NUMBER_TEXT
from collectrules.errors import FieldProblem, InputError, did_you_mean, quote
from collectrules.operations._channels import CHANNELS

__all__ = ["UNASSIGNED", "Owner", "Team", "load_team", "team_from_dict"]

#: The owner of the lines that no owner of the team file takes.
UNASSIGNED = "unassigned"

_OWNER_KEYS = (
    "id",
    "role",
    "capacity",
    "quadrants",
    "buckets",
    "step_roles",
    "channels",
    "min_amount",
    "max_amount",
)
_MAX_CAPACITY = 10_000_000
_QUADRANTS = frozenset({"Q1", "Q2", "Q3", "Q4"})
#: The longest whole amount read (about 4,300 digits, as long as Python writes as text).
_MAX_AMOUNT_BITS = 14_000


def _problem(attribute: attrs.Attribute[Any], expected: str, value: object) -> InputError:
    msg = f"expected {expected}, got {quote(value)}"
    return InputError([FieldProblem(attribute.name, msg)], subject="owner")


def _owner_id(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if type(value) is not str or not value.strip():
        raise _problem(attribute, "a non-empty text", value)


def _text(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if type(value) is not str:
        raise _problem(attribute, "a text", value)


def _capacity(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (type(value) is not int or not 0 <= value <= _MAX_CAPACITY):
        raise _problem(attribute, f"a whole number from 0 to {_MAX_CAPACITY:,}, or None", value)


def _texts(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (
        type(value) is not frozenset or not all(type(v) is str for v in value)
    ):
        raise _problem(attribute, "a frozenset of texts, or None", value)


def _quadrants(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    _texts(instance, attribute, value)
    if value is not None and not value <= _QUADRANTS:  # type: ignore[operator]  # a frozenset
        raise _problem(attribute, "quadrants among Q1, Q2, Q3 and Q4, or None", value)


def _channels(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    _texts(instance, attribute, value)
    if value is not None and not value <= frozenset(CHANNELS):  # type: ignore[operator]
        raise _problem(attribute, f"channels among {', '.join(CHANNELS)}, or None", value)


def _bucket_filter(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (
        not isinstance(value, Mapping)
        or not all(
            type(k) is str and type(v) is frozenset and all(type(b) is str for b in v)
            for k, v in value.items()
        )
    ):
        raise _problem(attribute, "a mapping of bucket sets to frozensets of buckets", value)


def _amount(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (type(value) is not Decimal or not value.is_finite() or value < 0):
        raise _problem(attribute, "a non-negative finite Decimal, or None", value)


def _above_min(instance: Owner, attribute: attrs.Attribute[Any], value: object) -> None:
    _amount(instance, attribute, value)
    low = instance.min_amount
    if value is not None and low is not None and low >= value:  # type: ignore[operator]
        raise _problem(attribute, f"more than min_amount ({low})", value)


@attrs.frozen
class Owner:
    """One owner of worklist lines and the segment of lines it takes.

    ``capacity`` caps the owner's list (``None``: no cap); the lines past it are the
    owner's overflow, reported and never dropped. Each filter left as ``None`` matches
    everything; ``min_amount`` is inclusive and ``max_amount`` exclusive. Each field is
    checked when the owner is built: a capacity that is no whole number from 0 to
    10,000,000, or a filter of another kind, is an :class:`~collectrules.errors.InputError`
    naming it.
    """

    id: str = attrs.field(validator=_owner_id)
    role: str = attrs.field(default="", validator=_text)
    capacity: int | None = attrs.field(default=None, validator=_capacity)
    quadrants: frozenset[str] | None = attrs.field(default=None, validator=_quadrants)
    buckets: Mapping[str, frozenset[str]] | None = attrs.field(
        default=None, validator=_bucket_filter
    )
    step_roles: frozenset[str] | None = attrs.field(default=None, validator=_texts)
    channels: frozenset[str] | None = attrs.field(default=None, validator=_channels)
    min_amount: Decimal | None = attrs.field(default=None, validator=_amount)
    max_amount: Decimal | None = attrs.field(default=None, validator=_above_min)

    def takes(
        self,
        *,
        quadrant: str,
        buckets: Mapping[str, str],
        amount: Decimal,
        step_role: str,
        channel: str,
    ) -> bool:
        """Whether a line with these attributes is in this owner's segment."""
        if self.quadrants is not None and quadrant not in self.quadrants:
            return False
        if self.buckets is not None:
            for bucket_set, wanted in self.buckets.items():
                if buckets.get(bucket_set) not in wanted:
                    return False
        if self.step_roles is not None and step_role not in self.step_roles:
            return False
        if self.channels is not None and channel not in self.channels:
            return False
        if self.min_amount is not None and amount < self.min_amount:
            return False
        return not (self.max_amount is not None and amount >= self.max_amount)


def _as_tuple(value: object) -> object:
    """A list of owners as a tuple (a team is hashable); anything else as it is."""
    return tuple(value) if type(value) is list else value


def _owners(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if type(value) is not tuple or not value:
        msg = f"expected a tuple of one Owner or more, got {quote(value)}"
        raise InputError([FieldProblem("owners", msg)], subject="team")
    problems: list[FieldProblem] = []
    seen: set[str] = set()
    for index, owner in enumerate(value):
        path = f"owners[{index}]"
        if type(owner) is not Owner:
            problems.append(FieldProblem(path, f"expected an Owner, got {quote(owner)}"))
        elif owner.id == UNASSIGNED:
            problems.append(
                FieldProblem(
                    f"{path}.id", f"{quote(UNASSIGNED)} is reserved for lines no owner takes"
                )
            )
        elif owner.id in seen:
            problems.append(FieldProblem(f"{path}.id", f"owner id {quote(owner.id)} is repeated"))
        else:
            seen.add(owner.id)
    if problems:
        raise InputError(problems, subject="team")


def _lines(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if type(value) is not tuple or not all(v is None or (type(v) is int and v > 0) for v in value):
        msg = f"expected a tuple of line numbers (or None), got {quote(value)}"
        raise InputError([FieldProblem(attribute.name, msg)], subject="team")


@attrs.frozen
class Team:
    """The owners of a team file, in order; the first whose segment matches takes a line.

    ``owners`` is a tuple (a list is made one) of one owner or more, each id once and
    none ``unassigned``; anything else is an :class:`~collectrules.errors.InputError`.
    ``source`` names the team file and ``step_role_lines`` gives, owner by owner, the
    line of its ``step_roles`` (``None``: not known), for the errors of
    :meth:`check_step_roles`; :func:`load_team` sets both. Neither takes part in
    equality.
    """

    owners: tuple[Owner, ...] = attrs.field(converter=_as_tuple, validator=_owners)
    source: str | None = attrs.field(
        default=None, kw_only=True, eq=False, validator=attrs.validators.optional(_text)
    )
    step_role_lines: tuple[int | None, ...] = attrs.field(
        default=(), kw_only=True, eq=False, repr=False, converter=_as_tuple, validator=_lines
    )

    def check_step_roles(self, roles: Iterable[str]) -> None:
        """Refuse a ``step_roles`` entry that is none of ``roles`` (the owner roles of the
        policy's stages): it would match no line, and its owner would silently take
        none. Every such entry is listed in one :class:`~collectrules.errors.InputError`,
        each naming the file, the line and ``owner[i].step_roles``, with the role it may
        be a misspelling of."""
        known = sorted(set(require_texts(roles, "roles", "a collection of texts")))
        problems: list[FieldProblem] = []
        for index, owner in enumerate(self.owners):
            line = self.step_role_lines[index] if index < len(self.step_role_lines) else None
            for role in sorted((owner.step_roles or frozenset()) - set(known)):
                msg = (
                    f"unknown step role {quote(role)}; expected the owner role of a stage"
                    f" of the policy: {', '.join(map(quote, known)) or 'it has none'}"
                )
                suggestion = did_you_mean(role, known)
                path = f"owner[{index}].step_roles"
                problems.append(FieldProblem(path, msg, self.source, line, suggestion))
        if problems:
            raise InputError(problems, subject="team file")

    def owner_for(
        self,
        *,
        quadrant: str,
        buckets: Mapping[str, str],
        amount: Decimal,
        step_role: str,
        channel: str,
    ) -> Owner | None:
        """The first owner that takes the line, or ``None`` (the line is unassigned)."""
        for owner in self.owners:
            if owner.takes(
                quadrant=quadrant,
                buckets=buckets,
                amount=amount,
                step_role=step_role,
                channel=channel,
            ):
                return owner
        return None


def load_team(path: str | Path) -> Team:
    """Read a team file (TOML); errors name the file and the field."""
    path = require_named_path(path, "path")
    where = source_name(path)
    try:
        text = read_small_file(path, MAX_SMALL_FILE_BYTES).decode("utf-8")
    except UnreadableFile as exc:
        raise InputError([FieldProblem("", f"cannot read: {exc.reason}", source=where)]) from None
    except UnicodeDecodeError:
        msg = "expected a UTF-8 text file (TOML)"
        raise InputError([FieldProblem("", msg, source=where)]) from None
    try:
        # A number with a fraction is read as policy files read one: one a float does not
        # hold as written (1e-400, 12345678901234567.89) is refused, never rounded.
        raw = tomllib.loads(text, parse_float=strict_json.checked_float)
    except strict_json.TooSmallNumber as exc:
        at = strict_json.number_offset(text, exc.text)
        line = None if at is None else text.count("\n", 0, at) + 1
        problem = FieldProblem("", exc.message, source=where, line=line)
        raise InputError([problem], subject="team") from None
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        msg = f"not valid TOML: {exc}"
        raise InputError([FieldProblem("", msg, source=where, line=line)], subject="team") from None
    except RecursionError:  # arrays or inline tables nested thousands deep
        msg = "not valid TOML for a team file: arrays or tables nested too deeply"
        raise InputError([FieldProblem("", msg, source=where)], subject="team") from None
    except ValueError as exc:  # tomllib's int() of an integer of over 4,300 digits
        msg = f"not valid TOML for a team file: {exc}"
        raise InputError([FieldProblem("", msg, source=where)], subject="team") from None
    return team_from_dict(raw, source=where, text=text)


_OWNER_HEADER = re.compile(r"""^\s*\[\[\s*(?:owner|"owner"|'owner')\s*\]\]""")
#: A top-level key a line gives: a table's header (``[key]``, ``[[ "key" ]]``,
#: ``[key.x]``), or ``key = …`` (before any table).
_TOP_KEY = re.compile(
    r"""^\s*(?P<table>\[\[?)?\s*(?:"(?P<quoted>[^"]*)"|'(?P<literal>[^']*)'|(?P<bare>[\w-]+))"""
    r"""\s*(?(table)[\].]|=)"""
)


def _top_key_lines(text: str | None) -> dict[str, int]:
    """The line that first gives each top-level key of ``text``, in one pass."""
    found: dict[str, int] = {}
    in_table = False
    for number, line in enumerate((text or "").splitlines(), start=1):
        m = _TOP_KEY.match(line)
        if m is not None and (m.group("table") or not in_table):
            key = m.group("quoted") or m.group("literal") or m.group("bare")
            found.setdefault(key, number)
        in_table = in_table or line.lstrip().startswith("[")
    return found


def _owner_lines(text: str | None) -> list[tuple[int, dict[str, int]]]:
    """Each ``[[owner]]`` table of ``text``: its header's line, and the line that first
    gives each key in it; in one pass, so that a file of many bad owners is named in
    time proportional to its length."""
    tables: list[tuple[int, dict[str, int]]] = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if _OWNER_HEADER.search(line):
            tables.append((number, {}))
        elif tables:
            tables[-1][1].setdefault(line.strip().split("=", 1)[0].strip(), number)
    return tables


def team_from_dict(
    raw: Mapping[str, Any], *, source: str | None = None, text: str | None = None
) -> Team:
    """A team from the parsed TOML of a team file (see the module docs).

    ``source`` names the file in the errors and ``text``, the file's text, gives their
    lines. Every problem of every owner is listed in one
    :class:`~collectrules.errors.InputError`; a bad value is quoted short.
    """
    for name, given in (("source", source), ("text", text)):
        if given is not None and not isinstance(given, str):
            msg = f"expected a text or None, got {type(given).__name__}"
            raise InputError([FieldProblem(name, msg)], subject="team")
    problems: list[FieldProblem] = []
    owner_lines: list[tuple[int, dict[str, int]]] | None = None

    def bad(index: int, key: object, message: str, suggestion: str | None = None) -> None:
        nonlocal owner_lines
        name = None if key is None else key if isinstance(key, str) else quote(key)
        path = f"owner[{index}]" + ("" if name is None else f".{name}")
        if owner_lines is None:
            owner_lines = _owner_lines(text)
        line = None
        if index < len(owner_lines):
            start, keys = owner_lines[index]
            line = start if name is None else keys.get(name, start)
        problems.append(FieldProblem(path, message, source, line, suggestion))

    if not isinstance(raw, Mapping):
        raise InputError([FieldProblem("", "expected a table", source=source)], subject="team")
    unknown = [k if isinstance(k, str) else quote(k) for k in raw if k != "owner"]
    lines = _top_key_lines(text) if unknown else {}
    for key in unknown:
        msg = "unknown key; a team file has only [[owner]] tables"
        problems.append(
            FieldProblem(key, msg, source, lines.get(key), did_you_mean(key, ["owner"]))
        )
    tables = raw.get("owner", [])
    if not isinstance(tables, list) or not tables:
        msg = "expected at least one [[owner]] table"
        raise InputError([*problems, FieldProblem("owner", msg, source)], subject="team")
    owners: list[Owner] = []
    ids: set[str] = set()
    for index, table in enumerate(tables):
        if not isinstance(table, Mapping):
            bad(index, None, f"expected a table, got {quote(table)}")
            continue
        found = len(problems)
        for key in table:
            if key not in _OWNER_KEYS:
                name = key if isinstance(key, str) else quote(key)
                bad(index, key, "unknown key", did_you_mean(name, list(_OWNER_KEYS)))
        owner_id = table.get("id")
        if not isinstance(owner_id, str) or not owner_id.strip():
            bad(index, "id", f"expected a non-empty string, got {quote(owner_id)}")
            continue
        if owner_id in ids or owner_id == UNASSIGNED:
            why = "reserved for lines no owner takes" if owner_id == UNASSIGNED else "repeated"
            bad(index, "id", f"owner id {quote(owner_id)} is {why}")
            continue
        ids.add(owner_id)
        role = table.get("role", "")
        if not isinstance(role, str):
            bad(index, "role", f"expected a string, got {quote(role)}")
        capacity = table.get("capacity")
        if capacity is not None and (
            isinstance(capacity, bool)
            or not isinstance(capacity, int)
            or not 0 <= capacity <= _MAX_CAPACITY
        ):
            expected = f"expected a whole number from 0 to {_MAX_CAPACITY:,}"
            bad(index, "capacity", f"{expected}, got {quote(capacity)}")
        sets: dict[str, frozenset[str] | None] = {}
        for key in ("quadrants", "step_roles", "channels"):
            value = table.get(key)
            sets[key] = None
            if value is None:
                continue
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                sets[key] = frozenset(value)
            else:
                bad(index, key, f"expected a list of strings, got {quote(value)}")
        quadrants = sets["quadrants"]
        if quadrants is not None:
            for q in sorted(quadrants - _QUADRANTS):
                bad(index, "quadrants", f"unknown quadrant {quote(q)}; expected Q1, Q2, Q3 or Q4")
        channels = sets["channels"]
        if channels is not None:
            # A misspelt channel would match no line: the owner would silently get none.
            for c in sorted(channels - set(CHANNELS)):
                msg = f"unknown channel {quote(c)}; expected one of {', '.join(CHANNELS)}"
                bad(index, "channels", msg, did_you_mean(c, CHANNELS))
        buckets_raw = table.get("buckets")
        buckets: dict[str, frozenset[str]] | None = None
        if buckets_raw is not None:
            if isinstance(buckets_raw, Mapping) and all(
                isinstance(k, str) and isinstance(v, list) and all(isinstance(b, str) for b in v)
                for k, v in buckets_raw.items()
            ):
                buckets = {k: frozenset(v) for k, v in buckets_raw.items()}
            else:
                msg = "expected a table of bucket set = [buckets], such as { M = ['M1'] }"
                bad(index, "buckets", f"{msg}, got {quote(buckets_raw)}")
        amounts: dict[str, Decimal | None] = {}
        for key in ("min_amount", "max_amount"):
            amounts[key] = number = _amount_of(table.get(key))
            if number is not None and (not number.is_finite() or number < 0):
                bad(index, key, f"expected a non-negative amount, got {quote(table.get(key))}")
        low, high = amounts["min_amount"], amounts["max_amount"]
        if len(problems) == found and low is not None and high is not None and low >= high:
            bad(index, "max_amount", f"expected more than min_amount ({low}), got {high}")
        if len(problems) > found:  # this owner is listed in the error; build no Owner
            continue
        owners.append(
            Owner(
                id=owner_id,
                role=role,
                capacity=capacity,
                quadrants=quadrants,
                buckets=buckets,
                step_roles=sets["step_roles"],
                channels=sets["channels"],
                min_amount=low,
                max_amount=high,
            )
        )
    if problems:
        raise InputError(problems, subject="team file")
    # Each table made an owner: the line of each owner's step_roles, for the errors of
    # Team.check_step_roles once the policy is known.
    at: list[int | None] = [None] * len(owners)
    if text is not None and any(o.step_roles is not None for o in owners):
        for index, (_, keys) in enumerate(_owner_lines(text)[: len(owners)]):
            at[index] = keys.get("step_roles")
    return Team(tuple(owners), source=source, step_role_lines=tuple(at))


def _amount_of(value: object) -> Decimal | None:
    """``value`` as a Decimal: ``None`` when left out, NaN when it is no amount (a
    boolean, a list, an integer too long to write, a text that is no number as a case's
    amounts are written: ``1_000``, `` 5``, ``٣``, which ``Decimal`` would read)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return Decimal("NaN")
    if isinstance(value, str) and NUMBER_TEXT.fullmatch(value) is None:
        return Decimal("NaN")
    if isinstance(value, int):  # not through str(): over 4,300 digits, it raises
        return Decimal(value) if value.bit_length() <= _MAX_AMOUNT_BITS else Decimal("NaN")
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal("NaN")


def owner_ids(team: Team | None) -> Sequence[str]:
    """The owner ids of ``team`` in file order, then ``unassigned``."""
    return [*(o.id for o in (team.owners if team else ())), UNASSIGNED]
