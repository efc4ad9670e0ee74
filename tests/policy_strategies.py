"""Hypothesis strategies for policy tests: small random policies, and cases for them.

The policies are random but always load: four signal kinds, a parameter, three layers
(willingness, ability, quadrant) with random hit policies and random conditions over
counts, a measured value, dpd, money and the product, and random remedy rules. They
are what the verifier is checked against: whatever it says about such a policy must
agree with what the engine does on cases.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

AS_OF = "2026-01-15T12:00:00+00:00"
TODAY = dt.date(2026, 1, 15)
COUNTS = ("k_neg", "k_pos", "a_neg")
REMEDIES = ("litigate", "extend", "negotiate", "pressure_guarantor", "visit")
OPS = ("<", "<=", ">", ">=", "==", "!=")

SIGNALS = {
    "k_neg": {"dimension": "willingness", "polarity": "negative"},
    "k_pos": {"dimension": "willingness", "polarity": "positive"},
    "a_neg": {"dimension": "ability", "polarity": "negative"},
    "m": {"dimension": "ability", "polarity": "measured"},
}


@st.composite
def atoms(draw: st.DrawFn, fields: tuple[str, ...]) -> str:
    """One comparison on one of ``fields``."""
    field = draw(st.sampled_from(fields))
    op = draw(st.sampled_from(OPS))
    if field in COUNTS:
        value: Any = draw(st.sampled_from(["0", "1", "2", "p1"]))
        return f"{field} {op} {value}"
    if field == "dpd":
        if draw(st.booleans()):
            return "30 <= dpd <= 90"
        return f"dpd {op} {draw(st.sampled_from(['0', '1', '30', '90']))}"
    if field == "overdue_amount":
        return f"overdue_amount {op} {draw(st.sampled_from(['0', '100', '5000.5']))}"
    if field == "m":
        if draw(st.booleans()):
            return draw(st.sampled_from(["has_m", "not has_m"]))
        return f"m {op} {draw(st.sampled_from(['0.5', '1', '2']))}"
    if field == "product":
        return draw(
            st.sampled_from(
                [
                    "product == 'loan'",
                    "product in ('loan', 'credit_card')",
                    "product != 'receivable'",
                ]
            )
        )
    if field == "willingness":
        return f"willingness == '{draw(st.sampled_from(['willing', 'unwilling']))}'"
    if field == "ability":
        values = draw(
            st.lists(
                st.sampled_from(["able", "temporarily_unable", "unable"]),
                min_size=1,
                max_size=2,
                unique=True,
            )
        )
        return f"ability in ({', '.join(repr(v) for v in values)},)"
    if field == "quadrant":
        values = draw(
            st.lists(st.sampled_from(["Q1", "Q2", "Q3", "Q4"]), min_size=1, max_size=2, unique=True)
        )
        return f"quadrant in ({', '.join(repr(v) for v in values)},)"
    raise AssertionError(field)


@st.composite
def conditions(draw: st.DrawFn, fields: tuple[str, ...], depth: int = 2) -> str:
    """A condition of atoms on ``fields`` with and, or and not."""
    if depth == 0 or draw(st.integers(0, 2)) == 0:
        return draw(atoms(fields))
    left = draw(conditions(fields, depth - 1))
    right = draw(conditions(fields, depth - 1))
    word = draw(st.sampled_from(["and", "or"]))
    text = f"({left}) {word} ({right})"
    return f"not ({text})" if draw(st.integers(0, 4)) == 0 else text


@st.composite
def layers(
    draw: st.DrawFn, lid: str, values: tuple[str, ...], fields: tuple[str, ...]
) -> dict[str, Any]:
    """A layer with a random hit policy and one to four random rules."""
    hit = draw(st.sampled_from(["first", "priority", "unique", "collect_sum"]))
    n = draw(st.integers(1, 4))
    rules: list[dict[str, Any]] = []
    for i in range(n):
        rule: dict[str, Any] = {
            "id": f"{lid.upper()}-{i}",
            "when": draw(conditions(fields)),
            "reason": "random",
        }
        if hit == "collect_sum":
            rule["score"] = draw(st.sampled_from([-3, -1, 0.5, 1, 2, 3]))
        else:
            rule["value"] = draw(st.sampled_from(values))
        if hit == "priority":
            rule["priority"] = draw(st.integers(0, 2))
        rules.append(rule)
    layer: dict[str, Any] = {
        "id": lid,
        "output": lid,
        "values": list(values),
        "hit_policy": hit,
        "rules": rules,
    }
    if hit == "collect_sum":
        layer["bands"] = [{"min": 1, "value": values[-1]}]
        if len(values) > 2:
            layer["bands"].append({"min": 3, "value": values[1]})
    if draw(st.booleans()):
        layer["default"] = draw(st.sampled_from(values))
    return layer


STANDARD_QUADRANTS = [
    {
        "id": "QUAD-Q1",
        "when": "willingness == 'willing' and ability == 'able'",
        "value": "Q1",
        "reason": "q",
    },
    {
        "id": "QUAD-Q2",
        "when": "willingness == 'willing' and ability != 'able'",
        "value": "Q2",
        "reason": "q",
    },
    {
        "id": "QUAD-Q3",
        "when": "willingness == 'unwilling' and ability == 'able'",
        "value": "Q3",
        "reason": "q",
    },
    {
        "id": "QUAD-Q4",
        "when": "willingness == 'unwilling' and ability != 'able'",
        "value": "Q4",
        "reason": "q",
    },
]


@st.composite
def policies(draw: st.DrawFn) -> dict[str, Any]:
    """A random policy that loads, as the data a TOML file would decode to."""
    willingness = draw(
        layers(
            "willingness",
            ("willing", "unwilling"),
            ("k_neg", "k_pos", "dpd", "product", "overdue_amount"),
        )
    )
    ability = draw(
        layers("ability", ("able", "temporarily_unable", "unable"), ("a_neg", "m", "dpd"))
    )
    if draw(st.booleans()):
        quadrant: dict[str, Any] = {
            "id": "quadrant",
            "output": "quadrant",
            "values": ["Q1", "Q2", "Q3", "Q4"],
            "hit_policy": "unique",
            "rules": [dict(r) for r in STANDARD_QUADRANTS],
        }
        if draw(st.booleans()):
            victim = draw(st.integers(0, 3))
            quadrant["rules"][victim]["when"] = draw(conditions(("willingness", "ability", "dpd")))
    else:
        quadrant = draw(
            layers("quadrant", ("Q1", "Q2", "Q3", "Q4"), ("willingness", "ability", "dpd"))
        )
    remedies = []
    for i in range(draw(st.integers(0, 5))):
        remedies.append(
            {
                "id": f"R-{i}",
                "effect": draw(st.sampled_from(["allow", "block", "require"])),
                "remedies": draw(
                    st.lists(st.sampled_from(REMEDIES), min_size=1, max_size=2, unique=True)
                ),
                "when": draw(
                    conditions(("quadrant", "willingness", "ability", "dpd", "k_neg"), depth=1)
                ),
                "reason": "random",
            }
        )
    return {
        "id": "random",
        "version": "1",
        "parameters": {"p1": {"value": draw(st.integers(0, 2))}},
        "signals": SIGNALS,
        "layers": [willingness, ability, quadrant],
        "remedies": {
            "conflict": draw(st.sampled_from(["block_wins", "allow_wins", "unspecified"])),
            "rules": remedies,
        },
    }


@st.composite
def case_dicts(draw: st.DrawFn) -> dict[str, Any]:
    """A case for a random policy, biased to the thresholds the conditions use."""
    dpd = draw(st.one_of(st.sampled_from([0, 1, 2, 29, 30, 31, 89, 90, 91]), st.integers(0, 400)))
    overdue = draw(
        st.sampled_from(["0", "100", "100.0001", "5000.5", "5000.5001", "99.9999", "12000"])
    )
    if dpd > 0 and overdue == "0":
        overdue = "1"
    signals: list[dict[str, Any]] = []
    for kind in COUNTS:
        signals += [{"kind": kind, "observed_at": AS_OF}] * draw(st.integers(0, 3))
    if draw(st.booleans()):
        value = draw(st.sampled_from([0, 0.4, 0.5, 0.7, 1, 1.5, 2, 3]))
        signals.append({"kind": "m", "observed_at": AS_OF, "value": value})
    return {
        "case_id": "H",
        "product": draw(st.sampled_from(["loan", "credit_card", "receivable", "property_fee"])),
        "currency": "CNY",
        "principal": "100000",
        "overdue_amount": overdue,
        "due_date": (TODAY - dt.timedelta(days=dpd)).isoformat(),
        "timezone": "UTC",
        "signals": signals,
    }
