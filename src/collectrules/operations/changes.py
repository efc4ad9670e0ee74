"""What changed between two batch runs of the same portfolio (``collectrules changes``).

Both runs are decision lines as ``collectrules batch`` writes them; cases are matched by
``case_id``. For each case in both runs the comparison gives:

* its **quadrant move** (``Q3 → Q4``);
* its **class moves**, one per regulatory pack, and its **bucket moves**, one per
  bucket set;
* the **remedies newly allowed** (allowed now, not before) and **newly blocked**
  (blocked now, not before, with the blocking rule);
* the **steps newly breached**: the decision facts ``step_<id>`` say ``breached`` now
  and said something else (or nothing) before. These facts are the timeline's state
  at each run's ``as_of``, which a policy with a ``[timeline]`` section puts into every
  decision, so the batch output needs no timeline of its own. With the policy, each
  fact is named by its stage id (``L-24H``); without it, by the fact (``step_l_24h``).

Over the portfolio it gives the from→to matrices (counts, and roll rates: each row's
counts over the row's total) for the quadrants, each pack and each bucket set. The
bucket roll rates are those of :func:`~collectrules.money.kpis.compute_kpis`, the same
figures ``collectrules kpis --previous`` shows. Both runs are held in memory, one small
record per case, to join them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from collectrules._arguments import require_instance, require_rows, wrong_kind
from collectrules.errors import CollectRulesError, FieldProblem, InputError, quote
from collectrules.money.kpis import Ratio, compute_kpis
from collectrules.operations.rows import DecisionRow, decision_row, step_names
from collectrules.policy import Policy

__all__ = ["CaseChange", "Moves", "RowProblem", "RunChanges", "compare_runs", "read_run"]


@attrs.frozen
class RowProblem:
    """A decision line that could not be read, with where it is and why."""

    where: str
    error: CollectRulesError


def _counts(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Counts by from-value and to-value: texts to texts to whole numbers from 0."""
    expected = "a mapping of texts to mappings of texts to whole numbers from 0"
    if not isinstance(value, Mapping):
        raise InputError([FieldProblem("counts", f"expected {expected}, got {quote(value)}")])
    for frm, row in value.items():
        path = f"counts[{quote(frm)}]"
        if type(frm) is not str or not isinstance(row, Mapping):
            raise InputError([FieldProblem(path, f"expected {expected}, got {quote(row)}")])
        for to, n in row.items():
            if type(to) is not str or type(n) is not int or n < 0:
                msg = f"expected a whole number from 0 by a text, got {quote(to)}: {quote(n)}"
                raise InputError([FieldProblem(path, msg)])


@attrs.frozen
class Moves:
    """A from→to matrix: how many cases went from each value to each value.

    ``counts`` is checked when the matrix is built (texts to texts to whole numbers
    from 0); anything else is an :class:`~collectrules.errors.InputError`.
    """

    counts: Mapping[str, Mapping[str, int]] = attrs.field(validator=_counts)

    @property
    def total(self) -> int:
        """All the cases counted."""
        return sum(sum(row.values()) for row in self.counts.values())

    @property
    def moved(self) -> int:
        """The cases whose value changed (off the diagonal)."""
        return sum(n for frm, row in self.counts.items() for to, n in row.items() if to != frm)

    def rates(self) -> dict[str, dict[str, Ratio]]:
        """Each count over its row's total (the roll rate from→to)."""
        out: dict[str, dict[str, Ratio]] = {}
        for frm, row in self.counts.items():
            total = Decimal(sum(row.values()))
            out[frm] = {to: Ratio(Decimal(n), total) for to, n in row.items()}
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the counts and the rates as decimal strings."""
        return {
            "counts": {f: dict(row) for f, row in self.counts.items()},
            "rates": {
                f: {t: None if r.value is None else str(r.value) for t, r in row.items()}
                for f, row in self.rates().items()
            },
            "total": self.total,
            "moved": self.moved,
        }


def _moves(pairs: Iterable[tuple[str, str]]) -> Moves:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for frm, to in pairs:
        counts[frm][to] += 1
    return Moves({f: dict(sorted(counts[f].items())) for f in sorted(counts)})


@attrs.frozen
class CaseChange:
    """What moved on one case between the two runs (``None``/empty: nothing)."""

    case_id: str
    quadrant: tuple[str, str] | None = None
    classes: tuple[tuple[str, str, str], ...] = ()
    buckets: tuple[tuple[str, str, str], ...] = ()
    newly_allowed: tuple[str, ...] = ()
    newly_blocked: tuple[tuple[str, str], ...] = ()
    newly_breached: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether anything moved."""
        return bool(
            self.quadrant
            or self.classes
            or self.buckets
            or self.newly_allowed
            or self.newly_blocked
            or self.newly_breached
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "case_id": self.case_id,
            "quadrant": None if self.quadrant is None else list(self.quadrant),
            "classes": {p: [a, b] for p, a, b in self.classes},
            "buckets": {s: [a, b] for s, a, b in self.buckets},
            "newly_allowed": list(self.newly_allowed),
            "newly_blocked": dict(self.newly_blocked),
            "newly_breached": list(self.newly_breached),
        }


@attrs.frozen
class RunChanges:
    """The comparison of two runs; see the module docs."""

    old_as_of: str | None
    new_as_of: str | None
    compared: int
    only_old: tuple[str, ...]
    only_new: tuple[str, ...]
    quadrants: Moves
    classes: Mapping[str, Moves]
    buckets: Mapping[str, Moves]
    cases: tuple[CaseChange, ...]
    problems: tuple[RowProblem, ...] = ()

    def _tally(self, pick: str) -> dict[str, int]:
        counter: Counter[str] = Counter()
        for change in self.cases:
            values = getattr(change, pick)
            counter.update(v[0] if isinstance(v, tuple) else v for v in values)
        return dict(sorted(counter.items()))

    @property
    def newly_allowed(self) -> dict[str, int]:
        """How many cases each remedy became allowed on."""
        return self._tally("newly_allowed")

    @property
    def newly_blocked(self) -> dict[str, int]:
        """How many cases each remedy became blocked on."""
        return self._tally("newly_blocked")

    @property
    def newly_breached(self) -> dict[str, int]:
        """How many cases each step became breached on."""
        return self._tally("newly_breached")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with a stable layout."""
        return {
            "old_as_of": self.old_as_of,
            "new_as_of": self.new_as_of,
            "compared": self.compared,
            "changed": len(self.cases),
            "only_old": list(self.only_old),
            "only_new": list(self.only_new),
            "quadrants": self.quadrants.to_dict(),
            "classes": {k: v.to_dict() for k, v in self.classes.items()},
            "buckets": {k: v.to_dict() for k, v in self.buckets.items()},
            "newly_allowed": self.newly_allowed,
            "newly_blocked": self.newly_blocked,
            "newly_breached": self.newly_breached,
            "cases": [c.to_dict() for c in self.cases],
            "bad_rows": [
                {"where": p.where, "error": str(p.error).replace("\n", " ")} for p in self.problems
            ],
        }


def read_run(
    rows: Iterable[tuple[str, Mapping[str, Any]]],
) -> tuple[dict[str, DecisionRow], list[RowProblem]]:
    """Decision lines (``where``, dict) by case id, and the lines that could not be read.

    A case id seen twice is a problem on its second line; the first is kept.
    """
    out: dict[str, DecisionRow] = {}
    problems: list[RowProblem] = []
    for where, data in require_rows(rows, "rows"):
        try:
            row = decision_row(data, where)
        except CollectRulesError as exc:
            problems.append(RowProblem(where, exc))
            continue
        if row.case_id in out:
            msg = f"case {quote(row.case_id)} appears twice in the same run"
            problems.append(RowProblem(where, InputError([FieldProblem("case_id", msg, where)])))
            continue
        out[row.case_id] = row
    return out, problems


def _one_as_of(rows: Mapping[str, DecisionRow]) -> str | None:
    found = sorted({r.case.as_of.isoformat() for r in rows.values()})
    return None if not found else found[0] if len(found) == 1 else f"{found[0]}…{found[-1]}"


def _run(
    value: Iterable[tuple[str, Mapping[str, Any]]] | Mapping[str, DecisionRow], name: str
) -> tuple[Mapping[str, DecisionRow], list[RowProblem]]:
    """A run given to :func:`compare_runs`: read from its lines, or as :func:`read_run`
    gave it (checked to be rows by case id)."""
    if not isinstance(value, Mapping):
        try:
            return read_run(value)
        except InputError as exc:  # named as the argument it was given as
            raise InputError(
                [attrs.evolve(p, path=name + p.path.removeprefix("rows")) for p in exc.problems]
            ) from None
    for case_id, row in value.items():
        if type(row) is not DecisionRow:
            raise wrong_kind(f"{name}[{quote(case_id)}]", row, "a DecisionRow (from read_run)")
        if case_id != row.case_id:  # a key of another kind, or another case's id
            msg = (
                f"expected the row's case id {quote(row.case_id)} as its key, got {quote(case_id)}"
            )
            raise InputError([FieldProblem(f"{name}[{quote(case_id)}]", msg)])
    return value, []


def compare_runs(
    old: Iterable[tuple[str, Mapping[str, Any]]] | Mapping[str, DecisionRow],
    new: Iterable[tuple[str, Mapping[str, Any]]] | Mapping[str, DecisionRow],
    *,
    policy: Policy | None = None,
) -> RunChanges:
    """Compare two batch runs: ``old`` and ``new`` are decision lines (``where``, dict)
    or the results of :func:`read_run`. ``policy`` names the steps by stage id.
    Unreadable lines are listed in :attr:`RunChanges.problems`; the others are compared.
    """
    if policy is not None:
        require_instance(policy, Policy, "policy", "a Policy or None")
    problems: list[RowProblem] = []
    before, bad = _run(old, "old")
    problems += bad
    after, bad = _run(new, "new")
    problems += bad
    names = step_names(policy)
    both = sorted(set(before) & set(after))
    changes: list[CaseChange] = []
    class_pairs: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for case_id in both:
        a, b = before[case_id], after[case_id]
        for pack, value in a.classes.items():
            if pack in b.classes:
                class_pairs[pack].append((value, b.classes[pack]))
        change = CaseChange(
            case_id=case_id,
            quadrant=None if a.quadrant == b.quadrant else (a.quadrant, b.quadrant),
            classes=tuple(
                (p, v, b.classes[p])
                for p, v in sorted(a.classes.items())
                if p in b.classes and b.classes[p] != v
            ),
            buckets=tuple(
                (s, v, b.case.buckets[s])
                for s, v in sorted(a.case.buckets.items())
                if s in b.case.buckets and b.case.buckets[s] != v
            ),
            newly_allowed=tuple(sorted(b.allowed - a.allowed)),
            newly_blocked=tuple(
                sorted((r, rule) for r, rule in b.blocked.items() if r not in a.blocked)
            ),
            newly_breached=tuple(
                sorted(
                    names.get(step, step)
                    for step, status in b.steps.items()
                    if status == "breached" and a.steps.get(step) != "breached"
                )
            ),
        )
        if change.changed:
            changes.append(change)
    rolls = (
        compute_kpis(
            {k: after[k].case for k in both}, previous={k: before[k].case for k in both}
        ).total.roll_rates
        or {}
    )
    buckets = {
        bset: Moves(
            {
                frm: {to: int(ratio.numerator) for to, ratio in row.items()}
                for frm, row in matrix.items()
            }
        )
        for bset, matrix in rolls.items()
    }
    return RunChanges(
        old_as_of=_one_as_of(before),
        new_as_of=_one_as_of(after),
        compared=len(both),
        only_old=tuple(sorted(set(before) - set(after))),
        only_new=tuple(sorted(set(after) - set(before))),
        quadrants=_moves((before[k].quadrant, after[k].quadrant) for k in both),
        classes={pack: _moves(pairs) for pack, pairs in sorted(class_pairs.items())},
        buckets=buckets,
        cases=tuple(changes),
        problems=tuple(problems),
    )
