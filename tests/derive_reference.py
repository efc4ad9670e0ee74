"""A frozen reference for fact derivation: generated cases, and what deriving them gave.

:func:`records` derives a deterministic population of cases (every shipped policy; signals
and events of every kind, guarantors, maturity dates, unknown kinds and products; zones
with daylight-saving changes) at several ``as_of`` instants, including both sides of the
clock changes in Europe/London and America/New_York and the repeated hour's two folds,
and writes each result (or error) as canonical JSON. tests/data/derive_reference.json.gz
holds the records made by the derivation as it was before it was made faster;
tests/test_derive_fast.py asserts that today's derivation gives the same, record by
record. Regenerate (only when a change to the derived facts is intended) with::

    python tests/derive_reference.py

tests/data/derive_key_orders.json.gz holds the order of each record's fact keys (the
records compare sorted facts), written from the same code as it was before the
timeline's state facts were made faster, with ``python tests/derive_reference.py
--key-orders``.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import random
import sys
import zoneinfo
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pendulum

from collectrules import Engine, load_policy
from collectrules.assets.checklist import assets_of
from collectrules.bench import generate_cases
from collectrules.errors import CollectRulesError
from collectrules.model.case import (
    EVENT_REQUIRED_FIELDS,
    Case,
    ContactOutcome,
    Event,
    EventKind,
    Guarantor,
    Signal,
)
from collectrules.policy.derive import Cure, Derived
from collectrules.policy.model import Policy

REFERENCE = Path(__file__).parent / "data" / "derive_reference.json.gz"
#: The order of each record's fact keys, as the derivation before it was made faster
#: gave them (written with ``python tests/derive_reference.py --key-orders``).
KEY_ORDERS = Path(__file__).parent / "data" / "derive_key_orders.json.gz"
POLICIES = ("default", "cn_bank_loan", "cn_credit_card", "us_regf", "uk", "ifrs9")
ZONES = ("Asia/Shanghai", "Europe/London", "America/New_York", "UTC", "Asia/Kolkata")

_LONDON = zoneinfo.ZoneInfo("Europe/London")
#: The instants cases are derived at: named (label, as_of).
AS_OFS: tuple[tuple[str, Any], ...] = (
    ("shanghai-noon", pendulum.datetime(2026, 6, 30, 12, tz="Asia/Shanghai")),
    ("shanghai-midnight", pendulum.datetime(2026, 7, 1, 0, tz="Asia/Shanghai")),
    ("london-before-spring", pendulum.datetime(2026, 3, 29, 0, 59, 59, tz="Europe/London")),
    ("london-after-spring", pendulum.datetime(2026, 3, 29, 2, 0, 0, tz="Europe/London")),
    ("london-fall-fold0", pendulum.datetime(2026, 10, 25, 1, 30, tz="Europe/London")),
    (
        "london-fall-fold1",
        pendulum.datetime(2026, 10, 25, 1, 30, tz="Europe/London").replace(fold=1),
    ),
    ("ny-spring", pendulum.datetime(2026, 3, 8, 3, 0, tz="America/New_York")),
    ("ny-fall-fold0", pendulum.datetime(2026, 11, 1, 1, 30, tz="America/New_York")),
    (
        "ny-fall-fold1",
        pendulum.datetime(2026, 11, 1, 1, 30, tz="America/New_York").replace(fold=1),
    ),
    ("stdlib-fixed", dt.datetime(2026, 11, 1, 23, 59, tzinfo=dt.timezone(dt.timedelta(hours=-5)))),
    ("stdlib-zoneinfo-fold1", dt.datetime(2026, 10, 25, 1, 30, fold=1, tzinfo=_LONDON)),
    ("text", "2026-12-31T23:59:59+08:00"),
    ("new-year-ny", pendulum.datetime(2027, 1, 1, 0, 0, tz="America/New_York")),
)
#: Instants that are not ``as_of`` values: each must give the same error.
BAD_AS_OFS: tuple[tuple[str, Any], ...] = (
    ("naive", dt.datetime(2026, 6, 30, 12)),
    ("too-early", pendulum.datetime(1800, 1, 1, tz="UTC")),
    ("garbage", "yesterday"),
    ("number", 20260630),
)


#: The event kinds the reference was generated with, in their order then: a kind added
#: since is left out, so the same seed gives the same cases.
_REFERENCE_KINDS = [k for k in EventKind if k not in (EventKind.RESTRUCTURED, EventKind.REAGED)]


def _when(as_of: Any) -> pendulum.DateTime:
    if isinstance(as_of, str):
        parsed = pendulum.parse(as_of)
        assert isinstance(parsed, pendulum.DateTime)
        return parsed
    instant: pendulum.DateTime = pendulum.instance(as_of)
    return instant


def _random_case(rng: random.Random, policy: Policy, index: int) -> Case:
    """One case with signals and events of every kind around a random ``as_of``."""
    base = _when(rng.choice(AS_OFS)[1])
    zone = rng.choice(ZONES)
    kinds = sorted(policy.signals)
    products = list(policy.products)
    product = rng.choice(products) if rng.random() > 0.03 else "not_a_product"
    section = assets_of(policy)
    classes = sorted(section.classes) if section is not None else ["movables"]

    def instant(max_days: int) -> pendulum.DateTime:
        at = base.subtract(minutes=rng.randrange(-2 * 24 * 60, max_days * 24 * 60))
        return at.in_timezone(rng.choice((zone, zone, "UTC", "Europe/London")))

    signals: list[Signal] = []
    for _ in range(rng.randrange(0, 9)):
        kind = rng.choice(kinds) if rng.random() > 0.03 else "not_a_kind"
        value = None
        if kind in policy.signals and policy.signals[kind].measured and rng.random() > 0.1:
            value = Decimal(rng.choice(["0", "0.3", "0.99", "1", "1.5", "6", "12", "24", "36"]))
        note = "seen" if rng.random() < 0.2 else None
        signals.append(Signal(kind=kind, observed_at=instant(400), value=value, note=note))
    events: list[Event] = []
    for _ in range(rng.choice((0, 0, 1, 2, 4, 8))):
        kind = rng.choice(_REFERENCE_KINDS)
        at = instant(400)
        extra: dict[str, Any] = {}
        needs = EVENT_REQUIRED_FIELDS.get(kind, ())
        if "amount" in needs or (kind is EventKind.PAYMENT and rng.random() < 0.5):
            extra["amount"] = Decimal(rng.choice(["0", "0.01", "100", "2500.50", "90000"]))
        if "outcome" in needs:
            extra["outcome"] = rng.choice(list(ContactOutcome))
        if "asset_class" in needs:
            extra["asset_class"] = rng.choice(classes)
        if "promised_date" in needs:
            extra["promised_date"] = at.date().add(days=rng.randrange(0, 60))
        if kind is EventKind.RETRACTION and rng.random() < 0.7:
            extra["retracts"] = rng.choice(kinds) if rng.random() > 0.05 else "not_a_kind"
        if rng.random() < 0.3:
            extra["party"] = rng.choice(("debtor", "guarantor", "spouse"))
        if rng.random() < 0.2:
            extra["channel"] = rng.choice(("phone", "sms", "visit", "letter"))
        events.append(Event(kind=kind, at=at, **extra))
    guarantors = tuple(
        Guarantor(
            id=f"g{k}",
            name=rng.choice((None, "Li Si")),
            agreed_period_months=rng.choice((None, 6, 24)),
        )
        for k in range(rng.choice((0, 0, 1, 2)))
    )
    due = base.date().subtract(days=rng.randrange(-30, 1500))
    maturity = None
    if rng.random() < 0.4:
        maturity = due.add(days=rng.randrange(-400, 400))
    return Case(
        case_id=f"R-{index}",
        product=product,
        currency="EUR" if policy.id == "ifrs9" else rng.choice(("CNY", "USD", "GBP", "EUR")),
        principal=Decimal(rng.randrange(0, 3_000_000)),
        overdue_amount=Decimal(rng.choice((0, rng.randrange(1, 200_000)))),
        due_date=due,
        timezone=zone,
        maturity_date=maturity,
        signals=tuple(signals),
        events=tuple(events),
        guarantors=guarantors,
    )


def _cases(policy: Policy, count: int, seed: int) -> list[Case]:
    rng = random.Random(seed)
    return [_random_case(rng, policy, i) for i in range(count)]


def _instant(value: dt.datetime) -> list[Any]:
    return [type(value).__name__, value.isoformat(), str(value.tzinfo), value.fold]


def _plain(value: Any) -> Any:
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float):
        return ["float", repr(value)]
    if isinstance(value, dt.datetime):
        return _instant(value)
    if isinstance(value, Decimal | dt.date):
        return [type(value).__name__, str(value)]
    return ["other", type(value).__name__, repr(value)]


def _signal(s: Signal) -> list[Any]:
    return [s.kind, _instant(s.observed_at), None if s.value is None else str(s.value), s.note]


def _cure(c: Cure) -> list[Any]:
    return [_instant(c.at), c.by, c.retracts, c.willingness, c.contact]


def snapshot(derived: Derived) -> dict[str, Any]:
    """Everything a derivation gives, as plain JSON data (types included)."""
    return {
        "facts": [[k, type(v).__name__, _plain(v)] for k, v in sorted(derived.facts.items())],
        "as_of": _instant(derived.as_of),
        "counted": [_signal(s) for s in derived.counted],
        "derived_signals": [_signal(s) for s in derived.derived_signals],
        "in_force": [[k, _instant(v)] for k, v in derived.in_force.items()],
        "cured": [[k, _instant(at), _cure(c)] for k, at, c in derived.cured],
        "ignored": [_signal(s) for s in derived.ignored],
    }


def _outcome(engine: Engine, case: Case, as_of: Any) -> dict[str, Any]:
    try:
        return {"derived": snapshot(engine.derive(case, as_of=as_of))}
    except CollectRulesError as exc:
        return {"error": [type(exc).__name__, str(exc)]}


def _digest(case: Case) -> str:
    text = json.dumps(case.to_dict(), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def inputs() -> Iterator[tuple[str, str, int, str, Case, Any]]:
    """Every (policy, mode, case index, as_of label, case, as_of) of the reference."""
    for name in POLICIES:
        policy = load_policy(name)
        rng = random.Random(name)
        population = [*generate_cases(policy, 150, seed=7), *_cases(policy, 450, seed=11)]
        for i, case in enumerate(population):
            labels = rng.sample(range(len(AS_OFS)), 2)
            mode = "ignore" if i % 5 == 0 else "error"
            for k in labels:
                label, as_of = AS_OFS[k]
                yield name, mode, i, label, case, as_of
            if i % 97 == 0:
                label, as_of = BAD_AS_OFS[(i // 97) % len(BAD_AS_OFS)]
                yield name, mode, i, label, case, as_of


def records() -> Iterator[dict[str, Any]]:
    """The reference records, derived by the code as it is now (one engine per policy
    and mode, in order, so that its caches are both cold and warm along the way)."""
    engines: dict[tuple[str, str], Engine] = {}
    for name, mode, i, label, case, as_of in inputs():
        engine = engines.get((name, mode))
        if engine is None:
            policy = load_policy(name)
            engine = engines[(name, mode)] = Engine(
                policy,
                backend="python",
                unknown_signals=mode,  # type: ignore[arg-type]
            )
        yield {
            "policy": name,
            "mode": mode,
            "case": i,
            "as_of": label,
            "input": _digest(case),
            **_outcome(engine, case, as_of),
        }


def key_orders() -> Iterator[list[str] | None]:
    """The order of the fact keys of each derivation of :func:`inputs` (``None`` for an
    error), derived as :func:`records` derives them."""
    engines: dict[tuple[str, str], Engine] = {}
    for name, mode, _, _, case, as_of in inputs():
        engine = engines.get((name, mode))
        if engine is None:
            engine = engines[(name, mode)] = Engine(
                load_policy(name),
                backend="python",
                unknown_signals=mode,  # type: ignore[arg-type]
            )
        try:
            yield list(engine.derive(case, as_of=as_of).facts)
        except CollectRulesError:
            yield None


def write_key_orders(path: Path = KEY_ORDERS) -> int:
    """Write the key orders file: each distinct order once, and per record its index
    (``-1`` for an error); the number of distinct orders."""
    distinct: dict[tuple[str, ...], int] = {}
    indexes = []
    for order in key_orders():
        indexes.append(-1 if order is None else distinct.setdefault(tuple(order), len(distinct)))
    data = {"orders": [list(o) for o in distinct], "records": indexes}
    path.write_bytes(gzip.compress(json.dumps(data).encode(), 9, mtime=0))
    return len(distinct)


def canonical(record: dict[str, Any]) -> str:
    """One record as canonical JSON text."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def write(path: Path = REFERENCE) -> int:
    """Write the reference file; the number of records."""
    lines = [canonical(r) for r in records()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode(), 9, mtime=0))
    return len(lines)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--key-orders"]:
        print(f"{write_key_orders()} distinct key orders written")
    else:
        written = write(Path(sys.argv[1]) if len(sys.argv) > 1 else REFERENCE)
        print(f"{written} records written")
