"""The policy JSON Schema accepts a policy exactly when the loader does.

Lenders check their policy files against the published schema in their editors and in
CI: what the schema accepts must load, and what loads must pass the schema. The
documents are the shipped policies, read from their TOML as an editor reads them; each
example changes one thing in one of them: a value anywhere in the document (every path
is taken from the data, so a key added to a policy is covered), a key dropped, misspelt
or added, a list emptied, cut or made long. The values are valid ones and near misses:
the wrong type, empty and blank text, a trailing line break, non-ASCII digits, numbers
out of range, NaN and infinity, days that are not in the calendar, 24:00 and 12:60.

The only disagreements allowed are the ones the schema's description and
docs/policy-format.md list (``POLICY_EXCEPTIONS``): the schema accepts, the loader
refuses, and every problem the loader reports is one of them (:data:`_EXCEPTION_PROBLEMS`).
The schema never refuses what the loader reads.
"""

from __future__ import annotations

import copy
import json
import math
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectrules import CollectRulesError, PolicyError, available_policies
from collectrules.policy import policy_from_dict
from collectrules.policy.schema import POLICY_EXCEPTIONS, policy_schema

ROOT = Path(__file__).parent.parent
SHIPPED = ROOT / "src" / "collectrules" / "policies"
VALIDATOR = jsonschema.Draft202012Validator(policy_schema())
BASES: dict[str, dict[str, Any]] = {
    name: tomllib.loads((SHIPPED / f"{name}.toml").read_text(encoding="utf-8"))
    for name in available_policies()
}
# default and us_regf (a child policy) first: the others hold the sections they lack
# (money's rate cap, a materiality pack's currencies, buckets).
NAMES = ["default", "us_regf", *[n for n in BASES if n not in ("default", "us_regf")]]

Path_ = tuple[str | int, ...]


def _nodes(value: Any, path: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _nodes(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nodes(item, (*path, index))


NODES = {name: list(_nodes(BASES[name])) for name in NAMES}
STRINGS = {
    name: sorted({v for _, v in NODES[name] if isinstance(v, str) and len(v) <= 40})
    for name in NAMES
}


# ------------------------------------------------------------------ values and near misses

NEAR_TEXTS = [
    "", " ", "\t", "\n", "a", "A", "x y", "9x", "x-y", "x.y", "é", "客户", "R-1", "R-逾期-1",
    "x" * 201, "x" * 4001, "2026-02-28", "2026-02-30", "2024-02-29", "2100-02-29",
    "2000-02-29", "0000-01-01", "9999-12-31", "2026-1-1", "２０２６-01-01", "٢٠٢٦-01-01",
    "08:00", "8:00", "00:00", "23:59", "24:00", "24:30", "12:60", "1٣:00", "08:00\n",
    "3 days", "٣ days", "3 days\n", " 3 days ", "3\u00a0days", "3 business\tdays",
    "3 fortnights", "3660 days", "3661 days", "99999 days", "3d", "3 DAYS",
    "Q1", "Q5", "USD", "usd", "EUR", "XAU", "phone", "loan", "remind", "none", "1", "1.5",
    "-1", "nan", "inf", "true", "dpd > 30", "dpd >", "１２",
]  # fmt: skip
DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
WIDE = str.maketrans("0123456789", "０１２３４５６７８９")


def _text_variants(text: str) -> list[str]:
    return [
        f"{text}\n", f" {text}", f"{text} ", f"{text}\u00a0", text.upper(), text.lower(),
        text.title(), text.replace("_", "-"), f"{text}x", text[:-1], text.translate(DIGITS),
        text.translate(WIDE), f"{text}\u200b",
    ]  # fmt: skip


NUMBERS = [0, -1, 1, 2, 23, 24, 59, 60, 99, 100, 101, 365, 366, 3660, 36500, 36501, 100000]
NUMBERS += [10**9, 10**15, 10**20, 2**63, 0.5, -0.5, 1.5, 1e300, -1e300, -0.0]
NUMBERS += [math.nan, math.inf, -math.inf]
WRONG_KINDS = [None, True, False, 0, 1.5, "x", [], {}, ["x"], {"x": 1}, [{}]]


def _number_variants(number: int | float) -> list[Any]:
    if isinstance(number, bool):
        return [not number, 0, 1, "true", "false"]
    out: list[Any] = [number + 1, number - 1, -number, number * 1000, str(number), True]
    out += [float(number), number + 0.5] if isinstance(number, int) else [int(number)]
    return out


def _values(node: Any, strings: list[str]) -> st.SearchStrategy[Any]:
    """Values for a node holding ``node``: near its own, and anything."""
    near: list[Any] = []
    if isinstance(node, str):
        near = _text_variants(node)
    elif isinstance(node, int | float):
        near = _number_variants(node)
    elif isinstance(node, list):
        near = [[], node[:1], [*node, *node[:1]], node * 2, [node]]
        if node:
            near += [node[0], node[:1] * 300, node[:1] * 1001]
    elif isinstance(node, dict):
        near = [{}, *({k: v for k, v in node.items() if k != drop} for drop in node)]
    common = st.sampled_from(NEAR_TEXTS) | st.sampled_from(NUMBERS) | st.sampled_from(strings)
    return (st.sampled_from(near) if near else common) | common | st.sampled_from(WRONG_KINDS)


def _key_variants(key: str) -> list[str]:
    out = {key[:-1], f"{key}s", key.upper(), f"{key}\n", key.replace("_", "-"), f" {key}"}
    out |= {key.replace("_", ""), "zzz_unknown"}
    return sorted(k for k in out if k and k != key)


@st.composite
def mutations(draw: st.DrawFn) -> tuple[str, str, Path_, Any]:
    """(base, what, path, value): one change to one shipped policy."""
    name = draw(st.sampled_from(NAMES[:2]) | st.sampled_from(NAMES), label="base")
    path, node = draw(st.sampled_from(NODES[name]), label="node")
    whats = ["set", "set", "set"] if path else []
    if path and isinstance(path[-1], str):
        whats += ["drop", "rename"]
    if isinstance(node, dict):
        whats += ["add"]
    what = draw(st.sampled_from(whats or ["add"]), label="what")
    if what == "set":
        return name, what, path, draw(_values(node, STRINGS[name]), label="value")
    if what == "rename":
        return name, what, path, draw(st.sampled_from(_key_variants(str(path[-1]))))
    if what == "add":
        key = draw(st.sampled_from(["zzz_unknown", "Zzz", "id", "doc", "value", "kind"]))
        return name, what, (*path, key), draw(st.sampled_from(["x", {}, 1, []]))
    return name, what, path, None


def _changed(name: str, what: str, path: Path_, value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(BASES[name])
    target: Any = doc
    for key in path[:-1]:
        target = target[key]
    key = path[-1]
    if what == "add" and isinstance(target, dict) and key in target:
        return doc  # the key is there: adding it changes nothing
    if what in ("set", "add"):
        target[key] = copy.deepcopy(value)
    elif what == "drop":
        del target[key]
    elif what == "rename":
        items = list(target.items())
        target.clear()
        target.update({value if k == key else k: v for k, v in items})
    return doc


# ------------------------------------------------------------------ the two judges


def _schema_accepts(doc: Any) -> bool:
    return bool(VALIDATOR.is_valid(doc))


def _loader_problems(doc: Any) -> list[str] | None:
    """The loader's problems with ``doc``, or None when it loads."""
    try:
        policy_from_dict(doc)
    except PolicyError as exc:
        return [f"{p.path}: {p.message}" for p in exc.problems]
    except CollectRulesError as exc:
        return [str(exc)]
    return None


# Each documented exception (POLICY_EXCEPTIONS, in the same order), as the problems
# the loader reports for it.
_EXCEPTION_PROBLEMS: list[re.Pattern[str]] = [
    # 1. a condition's text: its grammar, the fields and values it names
    re.compile(
        r"\.(when|or|condition|until|unless|skip_when|applies_when)\b.*: |unknown name |"
        r"condition|[Cc]olumn \d+"
    ),
    # 2. names that must name something elsewhere in the policy (or its base)
    re.compile(
        r"unknown (remedy|parameter|product|signal|field|clause|layer|pack|plan|kind|step"
        r"|calendar|stage|source|class|event|value|quadrant)|no (rule|regulation pack|calendar) |"
        r"not one of (the layer's|these) values|expected one of |is not a value of |"
        r"did you mean|missing the threshold|has no calendar|unknown product type|"
        r"expected a value of the layer|no [a-z ]+ named |not a [a-z ]+ of the policy|"
        r"cannot read them|names no "
    ),
    # 3. ids and names unique across a table or the policy
    re.compile(r"duplicate|already|more than once|repeats|same id"),
    # 4. figures that must agree with each other, or a parameter's value with its use
    re.compile(
        r"^parameters\.[a-z0-9_]+(\.value)?: |overlaps|gap between|start before|"
        r"must be (below|above|less|more|at most|at least)|"
        r"parameter '[^']+'|\(read by |every quadrant needs|must cite|needs a reason|"
        r"lower than|higher than|greater than|too long: at most|"
        r"needs? (an?|the) |without (an?|the) |only (an?|one)|cannot |must (have|name|be)"
    ),
    # 5. a rule id's characters, beyond its length, its ends and its line breaks
    re.compile(r"expected a (visible name|rule id) such as"),
    # 6. NaN and infinity, which JSON has not
    re.compile(r"finite|got (nan|inf|-inf)\b"),
]


def _exception_of(problem: str) -> int | None:
    return next((i for i, p in enumerate(_EXCEPTION_PROBLEMS) if p.search(problem)), None)


def _check(name: str, what: str, path: Path_, value: Any) -> None:
    doc = _changed(name, what, path, value)
    schema, problems = _schema_accepts(doc), _loader_problems(doc)
    shown = f"{name}: {what} {'.'.join(map(str, path))} = {value!r:.80}"
    if schema == (problems is None):
        return
    assert schema, f"{shown}: the schema refuses what the loader reads"
    assert problems is not None
    undocumented = [p for p in problems if _exception_of(p) is None]
    assert not undocumented, f"{shown}: the schema accepts, the loader refuses: {undocumented}"


@settings(
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutation=mutations())
def test_the_schema_accepts_a_policy_exactly_when_the_loader_does(
    mutation: tuple[str, str, Path_, Any],
) -> None:
    _check(*mutation)


def test_every_shipped_policy_passes_both() -> None:
    for name, doc in BASES.items():
        assert _schema_accepts(doc), name
        assert _loader_problems(json.loads(json.dumps(doc))) is None, name


# ------------------------------------------------------------------ what was wrong

GUARD_START = ("guardrails", "HOURS", "rules", 0, "start")
LPR_DATE = ("money", "rate_cap", "lpr_date")
WITHIN = ("timeline", "plans", "loan", 0, "within")
ABSOLUTE = ("regulation", "EU-DEFAULT", "absolute")
# Documents the schema accepted and the loader refused (or the reverse), each now
# judged alike: (base, what, path, value).
GAPS: list[tuple[str, str, Path_, Any]] = [
    ("default", "set", GUARD_START, "24:30"),
    ("cn_credit_card", "drop", ("regulation", "CN-CARD-CLASS", "classes", 4, "over_dpd"), None),
    ("cn_bank_loan", "set", ("layers", 0, "rules", 0, "when"), None),
    ("default", "set", GUARD_START, "08:00\n"),
    ("default", "set", GUARD_START, "1٣:00"),
    ("cn_bank_loan", "set", LPR_DATE, "2026-02-30"),
    ("cn_bank_loan", "set", LPR_DATE, "2100-02-29"),
    ("cn_bank_loan", "set", LPR_DATE, "٢٠٢٦-01-01"),
    ("cn_bank_loan", "set", LPR_DATE, "2026-01-01\n"),
    ("cn_bank_loan", "set", LPR_DATE, "0000-01-01"),
    ("cn_bank_loan", "set", LPR_DATE, "2000-02-29"),
    ("ifrs9", "rename", (*ABSOLUTE, "EUR"), "EUR\n"),
    ("ifrs9", "rename", (*ABSOLUTE, "EUR"), "ÉUR"),
    ("ifrs9", "set", ("regulation", "EU-DEFAULT", "labels", "not_default", 1), -0.5),
    ("default", "set", ("layers", 2, "labels", "able", 1), False),
    ("us_regf", "set", ("version",), "1.0.0\n"),
    ("uk", "set", ("parameters", "contact_hours_end"), {}),
    ("default", "set", WITHIN, "٣ days"),
    ("default", "set", WITHIN, "3 business\tdays"),
    ("default", "set", WITHIN, "3\x1cdays"),
    ("default", "set", ("layers", 1, "rules", 1, "reason"), 0),
    ("default", "set", ("layers", 1, "rules", 1, "doc"), ["x"]),
    ("default", "set", ("layers", 0, "doc"), 0),
    ("default", "set", ("remedies", "rules", 0, "doc"), {}),
    ("default", "set", ("signals", "sales_decline", "label_en"), 0),
    ("default", "set", ("signals", "sales_decline", "doc"), 0),
    ("default", "set", ("parameters", "lookback_days", "doc"), {}),
    ("default", "set", ("parameters", "lookback_days", "chosen"), {"x": 1}),
    ("default", "set", ("remedies", "rules", 0, "id"), "12:60"),
    ("default", "set", ("layers", 0, "rules", 0, "id"), "R-逾期-1"),
    ("us_regf", "set", ("remedies", "rules", 0, "id"), "3 weeks"),
]


@pytest.mark.parametrize(
    ("name", "what", "path", "value"),
    GAPS,
    ids=[f"{n}:{'.'.join(map(str, p))}={v!r:.20}" for n, _, p, v in GAPS],
)
def test_the_gaps_found_are_closed(name: str, what: str, path: Path_, value: Any) -> None:
    doc = _changed(name, what, path, value)
    assert _schema_accepts(doc) == (_loader_problems(doc) is None), (path, value)


# ------------------------------------------------------------------ the documented exceptions

# One example of each: (number, base, path, value); the schema accepts, the loader refuses.
EXCEPTIONS: list[tuple[int, str, Path_, Any]] = [
    (1, "default", ("layers", 1, "rules", 0, "when"), "lied_about_cause >="),
    (2, "default", ("remedies", "rules", 0, "remedies", 0), "no_such_remedy"),
    (3, "default", ("layers", 1, "rules", 1, "id"), "W-LIED-ABOUT-CAUSE"),
    (4, "default", ("parameters", "lookback_days", "value"), 1000000),
    (5, "default", ("remedies", "rules", 0, "id"), "R\u200b1"),
    (6, "default", ("parameters", "coverage_able", "value"), math.nan),
]


@pytest.mark.parametrize(("number", "name", "path", "value"), EXCEPTIONS)
def test_each_documented_exception_is_real(number: int, name: str, path: Path_, value: Any) -> None:
    doc = _changed(name, "set", path, value)
    problems = _loader_problems(doc)
    assert _schema_accepts(doc)
    assert problems
    assert _EXCEPTION_PROBLEMS[number - 1].search(problems[0]), problems
    assert None not in {_exception_of(p) for p in problems}, problems


def test_the_exceptions_are_documented_in_the_schema_and_the_docs() -> None:
    description = policy_schema()["description"]
    docs = " ".join((ROOT / "docs" / "policy-format.md").read_text(encoding="utf-8").split())
    assert len(POLICY_EXCEPTIONS) == len(_EXCEPTION_PROBLEMS)
    for text in POLICY_EXCEPTIONS:
        assert text in description
        assert " ".join(text.split()) in docs, text
