"""What deriving a case's facts costs per case, on a batch's first pass and on a second.

Run ``python benchmarks/derive.py [--cases N] [--policy NAME]``. On the benchmark's
portfolio (``collectrules.bench.generate_cases``: five signals a case; the default
policy unless told), it prints the CPU time per case of ``Engine.derive`` at one
``as_of``:

* **first pass**: every cache that derivation fills (the timeline's states and stage
  times, remembered offsets, local midnights and dates) emptied, then warmed on 500
  other cases, as a nightly batch meets its cases, each once;
* **second pass**: the same cases again, the caches warm;

for the cases as built in Python and as read back from JSON (``Case.from_dict``, as a
batch reads them: their times carry fixed offsets). It also prints how many of the
cases gave identical facts in both passes.

Then the timeline's state facts alone (the step statuses, plan flags and phase that
remedy rules read), computed afresh for each case as on a miss of their cache: for the
cases as they are (without events), and for the same cases with a few events each
(contact attempts, payments, visits, promises to pay), whose steps the cache never
holds. Last, the whole derivation of those cases with events, on a first pass (the
caches emptied first, as above).

CPU time (``time.process_time``) with the garbage collector off while timing, best of
three rounds: the machine is shared, and wall time would measure the neighbours. Nothing
here is a test: it prints figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import random
import time
from decimal import Decimal
from typing import Any

import attrs
import pendulum

from collectrules import Engine
from collectrules.bench import AS_OF, generate_cases
from collectrules.model import case as model
from collectrules.model import time as model_time
from collectrules.policy import load_policy
from collectrules.timeline import evaluate, stages


def _empty_caches(engine: Engine) -> None:
    for name in (
        "timeline_state_cache",
        "timeline_stage_times",
        "timeline_event_plan_times",
        "timeline_local_as_of",
    ):
        engine.policy.memo(name, dict).clear()
    stages._shifted.cache_clear()
    model_time._local_midnight.cache_clear()
    model._local_date.cache_clear()


def _timed(engine: Engine, cases: list[model.Case]) -> tuple[float, list[Any]]:
    """µs of CPU time per case, and the facts."""
    gc.collect()
    gc.disable()
    try:
        start = time.process_time()
        facts = [engine.derive(c, as_of=AS_OF).facts for c in cases]
        spent = time.process_time() - start
    finally:
        gc.enable()
    return spent / len(cases) * 1e6, facts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--policy", default="default")
    args = parser.parse_args()
    policy = load_policy(args.policy)
    engine = Engine(policy, backend="python")
    built = generate_cases(policy, args.cases)
    warm = generate_cases(policy, 500, seed=1)
    kinds = tuple(policy.signals)
    read = [
        model.Case.from_dict(json.loads(json.dumps(c.to_dict())), signal_kinds=kinds) for c in built
    ]
    for name, cases in (("cases built in Python", built), ("cases read from JSON", read)):
        first: list[float] = []
        second: list[float] = []
        same = 0
        for _ in range(3):
            _empty_caches(engine)
            for case in warm:
                engine.derive(case, as_of=AS_OF)
            cold, facts = _timed(engine, cases)
            hot, again = _timed(engine, cases)
            first.append(cold)
            second.append(hot)
            same = sum(a == b for a, b in zip(facts, again, strict=True))
        print(f"== {args.policy}: {len(cases):,} {name}, five signals each")
        print(f"first pass (caches cold)    {min(first):7.1f} µs/case  {1e6 / min(first):9,.0f}/s")
        print(
            f"second pass (caches warm)   {min(second):7.1f} µs/case  {1e6 / min(second):9,.0f}/s"
        )
        print(f"identical facts             {same:,} of {len(cases):,}")
    _state_facts(engine, built[:5000])


def _with_events(cases: list[model.Case], as_of: pendulum.DateTime) -> list[model.Case]:
    """``cases``, each with one to five events in the 90 days before ``as_of``."""
    rng = random.Random(5)
    out = []
    for case in cases:
        events = []
        for _ in range(rng.randrange(1, 6)):
            at = as_of.subtract(minutes=rng.randrange(0, 90 * 24 * 60))
            kind = rng.choice(("contact", "contact", "payment", "visit", "promise"))
            if kind == "contact":
                outcome = rng.choice(list(model.ContactOutcome))
                events.append(model.Event(model.EventKind.CONTACT_ATTEMPT, at, outcome=outcome))
            elif kind == "payment":
                amount = Decimal(rng.randrange(1, 5000))
                events.append(model.Event(model.EventKind.PAYMENT, at, amount=amount))
            elif kind == "visit":
                events.append(model.Event(model.EventKind.VISIT, at))
            else:
                promised = at.date() + dt.timedelta(days=rng.randrange(0, 10))
                events.append(
                    model.Event(
                        model.EventKind.PROMISE_MADE,
                        at,
                        amount=Decimal(1000),
                        promised_date=promised,
                    )
                )
        out.append(attrs.evolve(case, events=tuple(events)))
    return out


def _state_facts(engine: Engine, cases: list[model.Case]) -> None:
    """Print the CPU time per case of the timeline's state facts on a miss."""
    policy = engine.policy
    section = policy.sections.get("timeline")
    if section is None:
        return
    as_of = model_time.require_aware(AS_OF)
    for name, batch in (
        ("without events", cases),
        ("with 1-5 events", _with_events(cases, as_of)),
    ):
        derived = [engine.derive(c, as_of=as_of).facts for c in batch]
        rounds = []
        for _ in range(3):
            _empty_caches(engine)
            gc.collect()
            gc.disable()
            try:
                start = time.process_time()
                for case, facts in zip(batch, derived, strict=True):
                    evaluate._step_facts(case, as_of, policy, section, facts)
                rounds.append(time.process_time() - start)
            finally:
                gc.enable()
        per_case = min(rounds) / len(batch) * 1e6
        print(f"timeline state facts on a miss, {name:<16} {per_case:7.1f} µs/case")
    busy = _with_events(cases, as_of)
    rounds = []
    for _ in range(3):
        _empty_caches(engine)
        gc.collect()
        gc.disable()
        try:
            start = time.process_time()
            for case in busy:
                engine.derive(case, as_of=as_of)
            rounds.append(time.process_time() - start)
        finally:
            gc.enable()
    per_case = min(rounds) / len(busy) * 1e6
    print(f"derivation, first pass, {'with 1-5 events':<24} {per_case:7.1f} µs/case")


if __name__ == "__main__":
    main()
