"""A problem in a file of an ``extends`` chain names the file and the line that wrote it.

Each kind of policy error is written once into a lender's file, at the start, the middle
or the end of a chain of one to three files (the last extends ``default``): the error
names that file and the line of the offending key, however the file is reached. A key
that a file merges over another file's entry is the file's that writes it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectrules import PolicyError, load_policy
from collectrules.cli import main

#: Each kind of error: a fragment of TOML, and the problems it makes, as the path of
#: each and the tag (``# @tag``) of the line it is to name.
KINDS: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "stage within": (
        """
[[timeline.plans.extra]]
id = "X-1"
title = "extra step"
anchor = "overdue_start"
within = "soon"  # @a
action = "Call."
channel = "phone"
owner = "account_manager"
completed_by = ["contact_attempt:reached"]
""",
        (("timeline.plans.extra[X-1].within", "a"),),
    ),
    "stage unknown key": (
        """
[[timeline.plans.extra]]
id = "X-1"
anchor = "overdue_start"
within = "1 day"
action = "Call."
channel = "phone"
owner = "account_manager"
completed_by = ["contact_attempt:reached"]
titel = "x"  # @a
""",
        (("timeline.plans.extra[X-1].titel", "a"),),
    ),
    "stage missing key": (
        """
[[timeline.plans.extra]]
id = "X-1"  # @a
anchor = "overdue_start"
within = "1 day"
action = "Call."
channel = "phone"
owner = "account_manager"
""",
        (("timeline.plans.extra[X-1].completed_by", "a"),),
    ),
    "emergency step within": (
        """
[[emergencies.plans.response]]
id = "E-REPORT"
title = "report"
action = "Report."
role = "collector"
within = "soon"  # @a
completed_by = ["emergency_reported"]
""",
        (("emergencies.plans.response[E-REPORT].within", "a"),),
    ),
    "emergency kind": (
        """
[emergencies.kinds.absconded]
plan = "response"
titel = "x"  # @a
""",
        (("emergencies.kinds.absconded.titel", "a"),),
    ),
    "layer key": (
        """
[[layers]]
id = "quadrant"
hit_policy = "sometimes"  # @a
""",
        (("layers[quadrant].hit_policy", "a"),),
    ),
    "new layer": (
        """
[[layers]]
id = "extra"
values = ["a", "b"]
default = "c"  # @a
""",
        (("layers[extra].default", "a"),),
    ),
    "layer rule": (
        """
[[layers]]
id = "quadrant"

[[layers.rules]]
id = "QX"
when = "willingness == 'willing'"
value = "Q9"  # @a
""",
        (("layers[quadrant].rules[QX].value", "a"),),
    ),
    "remedy rule": (
        """
[[remedies.rules]]
id = "R-X"
effect = "allow"
remedy = "extend"
reason = "x"
when = "quadrant == 'Q2' and recovery_month <= 12"  # @a
""",
        (("remedies[R-X].when", "a"),),
    ),
    "signal": (
        """
[signals.new_sig]
dimension = "willingness"
polarity = "sideways"  # @a
""",
        (("signals.new_sig.polarity", "a"),),
    ),
    "parameter": (
        """
[parameters.extra_p]
value = 3
dok = "x"  # @a
""",
        (("parameters.extra_p.dok", "a"),),
    ),
    "named condition": (
        """
[conditions]
sick = "health_issue >=< 1"  # @a
""",
        (("conditions.sick", "a"),),
    ),
    "catalogue": (
        """
[catalogue.remedies.my_remedy]  # @b
label_en = "mine"
kindd = "x"  # @a
""",
        (
            ("catalogue.remedies.my_remedy.kindd", "a"),
            ("catalogue.remedies.my_remedy.category", "b"),
            ("catalogue.remedies.my_remedy.label_zh", "b"),
        ),
    ),
    "deadline": (
        """
[timeline.deadlines.limitation]
years = "many"  # @a
""",
        (("timeline.deadlines.limitation.years", "a"),),
    ),
    "guardrail rule": (
        """
[guardrails.MINE]
title = "mine"

[[guardrails.MINE.rules]]
id = "G-1"
kind = "condukt"  # @a
reason = "x"
""",
        (("guardrails.MINE.rules[G-1].kind", "a"),),
    ),
    "guardrail without rules": (
        """
[guardrails.MINE]  # @b
title = "mine"
titel = "x"  # @a
""",
        (("guardrails.MINE.titel", "a"), ("guardrails.MINE.rules", "b")),
    ),
    "regulation class": (
        """
[regulation.MINE]
kind = "dpd_ladder"
title = "mine"
fact = "mine_class"

[[regulation.MINE.classes]]  # @b
value = "pass"
rule = "MINE-PASS"
from_dpd = "nope"  # @a
reason = "x"
""",
        (
            ("regulation.MINE.classes", "b"),
            ("regulation.MINE.classes[0].from_dpd", "a"),
        ),
    ),
    "bucket range": (
        """
[buckets.B]
title = "b"
fact = "bkt"
current = "B0"

[[buckets.B.ranges]]
id = "B1"  # @a
label = "x"
min_dpd = 10
max_dpd = 5
""",
        (("buckets.B.ranges[B1]", "a"), ("buckets.B.ranges[B1].max_dpd", "a")),
    ),
    "bucket overlap": (
        """
[buckets.B]
title = "b"
fact = "bkt"
current = "B0"

[[buckets.B.ranges]]
id = "B1"
label = "x"
min_dpd = 1
max_dpd = 30

[[buckets.B.ranges]]
id = "B2"  # @a
label = "y"
min_dpd = 20
""",
        (("buckets.B.ranges[B2]", "a"),),
    ),
    "money": (
        """
[money.targets.mine]
basis = "overdue_amount"
rate = 0.5
labl = "x"  # @a
""",
        (("money.targets.mine.labl", "a"),),
    ),
    "asset source": (
        """
[assets.sources.creditor_knowledge]
title = "the creditor's own knowledge"
needs = "none"

[assets.sources.debtor_declaration]
title = "the debtor"
needs = "none"

[assets.sources.vehicle_registry]
title = "vehicles"
needs = "none"

[assets.sources.neighbourhood_committee]
title = "the committee"
needs = "magic"  # @a

[assets.classes.cash_deposits]
title = "deposits"
sources = ["creditor_knowledge", "debtor_declaration"]

[assets.classes.movables]
title = "movables"
sources = ["creditor_knowledge", "vehicle_registy"]  # @b
""",
        (
            ("assets.sources.neighbourhood_committee.needs", "a"),
            ("assets.classes.movables.sources", "b"),
        ),
    ),
}

#: The settings of the properties: each example loads a chain of files.
CHAINS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

#: Lines that change nothing, to put a fragment at another line of its file (each
#: once: a key twice is a TOML error).
FILLERS = ("", "# a note", "# another", 'notes = ["one"]', 'description = "a lender"')


def _filled(data: st.DataObject, index: int, body: str) -> str:
    """``body`` after a few lines that change nothing, drawn for file ``index``."""
    lines = data.draw(st.lists(st.sampled_from(FILLERS), unique=True), label=f"f{index}")
    return "\n".join([*lines, body])


def _place(text: str) -> tuple[str, dict[str, int]]:
    """The text without its tags, and the 1-based line of each tag."""
    lines = text.split("\n")
    tags: dict[str, int] = {}
    for i, line in enumerate(lines):
        found = re.search(r"\s*# @(\w+)$", line)
        if found is not None:
            tags[found.group(1)] = i + 1
            lines[i] = line[: found.start()]
    return "\n".join(lines), tags


def _chain(
    folder: Path, files: list[str], *, extends_last: str = "default"
) -> tuple[Path, list[dict[str, int]]]:
    """Write a chain of files, each extending the next (the last ``extends_last``):
    the first file's path, and each file's tags."""
    tags: list[dict[str, int]] = []
    for i, body in enumerate(files):
        parent = f"f{i + 1}.toml" if i + 1 < len(files) else extends_last
        text, found = _place(f'extends = "{parent}"\nid = "p{i}"\n{body}')
        (folder / f"f{i}.toml").write_text(text, encoding="utf-8")
        tags.append(found)
    return folder / "f0.toml", tags


def _problems(path: Path) -> set[tuple[str, str | None, int | None]]:
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    return {
        (p.path, Path(p.source).name if p.source else None, p.line) for p in info.value.problems
    }


def _wanted(
    expected: tuple[tuple[str, str], ...], at: int, tags: list[dict[str, int]]
) -> set[tuple[str, str | None, int | None]]:
    return {(path, f"f{at}.toml", tags[at][tag]) for path, tag in expected}


#: The kinds whose problem is found through the table or array around the key (a stage
#: of a plan, a step, a guardrail's rule, a class, a range), a key a table lacks, a key
#: of a layer, or a key under a named table's own header; the others
#: (``NAMED_BY_PATH``) are found by their own path or their rule's id.
FOUND_BY_TABLE = (
    "asset source",
    "bucket overlap",
    "bucket range",
    "catalogue",
    "emergency step within",
    "guardrail rule",
    "guardrail without rules",
    "layer key",
    "new layer",
    "regulation class",
    "stage missing key",
    "stage unknown key",
    "stage within",
)
NAMED_BY_PATH = tuple(sorted(set(KINDS) - set(FOUND_BY_TABLE)))

#: Chains of one to three files, and the file (by its place) that holds the fragment:
#: the loaded file, its base, or its base's base.
PLACES = [(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2)]


@pytest.mark.parametrize("kind", FOUND_BY_TABLE)
def test_problem_names_the_file_and_line_that_wrote_it(tmp_path: Path, kind: str) -> None:
    fragment, expected = KINDS[kind]
    for size, at in PLACES:
        folder = tmp_path / f"{size}-{at}"
        folder.mkdir()
        files = ["" for _ in range(size)]
        files[at] = fragment
        first, tags = _chain(folder, files)
        assert _problems(first) == _wanted(expected, at, tags), (size, at)


def test_check_names_the_base_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fragment, _ = KINDS["stage within"]
    first, tags = _chain(tmp_path, ["", fragment])
    assert main(["check", str(first)]) != 0
    out = capsys.readouterr().out
    base = tmp_path / "f1.toml"
    assert f"{base}:{tags[1]['a']}: timeline.plans.extra[X-1].within: cannot read offset" in out
    assert f"{first}: timeline.plans.extra" not in out


@CHAINS
@given(
    kind=st.sampled_from(FOUND_BY_TABLE + NAMED_BY_PATH),
    size=st.integers(min_value=1, max_value=3),
    data=st.data(),
)
def test_a_bad_key_at_any_depth_is_reported_at_its_file_and_line(
    tmp_path_factory: pytest.TempPathFactory, kind: str, size: int, data: st.DataObject
) -> None:
    folder = tmp_path_factory.mktemp("chain")
    at = data.draw(st.integers(min_value=0, max_value=size - 1), label="at")
    fragment, expected = KINDS[kind]
    files = [_filled(data, i, fragment if i == at else "") for i in range(size)]
    first, tags = _chain(folder, files)
    assert _problems(first) == _wanted(expected, at, tags)


#: Files that each write part of one entry: the problem is the file's that wrote the
#: offending key, however the chain merges the entry.
MERGED = {
    "a base's parameter value, a child's doc": (
        [
            '[parameters.lookback_days]\ndoc = "ours"\n',
            '[parameters.lookback_days]  # @a\nvalue = "abc"\n',
        ],
        ("parameters.lookback_days", 1, "a"),
    ),
    "a child's bare parameter value over a base's table": (
        [
            '[parameters]\nlookback_days = "abc"  # @a\n',
            '[parameters.lookback_days]\nvalue = 30\ndoc = "the base\'s"\n',
        ],
        ("parameters.lookback_days", 0, "a"),
    ),
    "a base's signal polarity, a child's label": (
        [
            '[signals.new_sig]\nlabel_en = "new"\n',
            '[signals.new_sig]\ndimension = "willingness"\npolarity = "sideways"  # @a\n',
        ],
        ("signals.new_sig.polarity", 1, "a"),
    ),
    "a base's layer default, a child's doc": (
        [
            '[[layers]]\nid = "extra"\ndoc = "ours"\n',
            '[[layers]]\nid = "extra"\nvalues = ["a", "b"]\ndefault = "c"  # @a\n',
        ],
        ("layers[extra].default", 1, "a"),
    ),
    "a child's layer default over a base's layer": (
        [
            '[[layers]]\nid = "extra"\ndefault = "c"  # @a\n',
            '[[layers]]\nid = "extra"\nvalues = ["a", "b"]\ndefault = "a"\n',
        ],
        ("layers[extra].default", 0, "a"),
    ),
    "a base's money key, a child's other money key": (
        [
            '[money]\nhorizon_kinds = ["extend"]\n',
            '[money]\nallocation_order = ["fees", "fees"]  # @a\n',
        ],
        ("money.allocation_order", 1, "a"),
    ),
    "a base's emergency kind, a child's section key": (
        [
            '[emergencies]\ncites = ["E-RESPONSE"]\n',
            '[emergencies.kinds.absconded]\nplan = "response"\ntitel = "x"  # @a\n',
        ],
        ("emergencies.kinds.absconded.titel", 1, "a"),
    ),
    "a base's deadline, a child's other deadline key": (
        [
            "[timeline.deadlines]\nextend_to_working_day = false\n",
            '[timeline.deadlines.limitation]\nyears = "many"  # @a\n',
        ],
        ("timeline.deadlines.limitation.years", 1, "a"),
    ),
    "a child's envelope replacing a base's": (
        ['[envelopes.Q1]  # @a\nremedies = ["extend"]\n', ""],
        ("envelopes.Q1.cites", 0, "a"),
    ),
}


@pytest.mark.parametrize(
    "name",
    [
        "a base's parameter value, a child's doc",
        "a base's layer default, a child's doc",
        "a child's envelope replacing a base's",
    ],
)
def test_a_merged_entry_names_the_file_that_wrote_the_key(tmp_path: Path, name: str) -> None:
    files, (path, at, tag) = MERGED[name]
    first, tags = _chain(tmp_path, list(files))
    found = {p for p in _problems(first) if p[0] == path}
    assert found == {(path, f"f{at}.toml", tags[at][tag])}


@CHAINS
@given(name=st.sampled_from(sorted(MERGED)), data=st.data())
def test_every_merged_entry_at_any_depth_names_the_file_that_wrote_the_key(
    tmp_path_factory: pytest.TempPathFactory, name: str, data: st.DataObject
) -> None:
    """The same, with the two files loaded through an extending file or not, and at
    other lines of their files."""
    folder = tmp_path_factory.mktemp("merged")
    files, (path, at, tag) = MERGED[name]
    above = data.draw(st.integers(min_value=0, max_value=1), label="files above")
    chain = [""] * above + list(files)
    chain = [_filled(data, i, body) for i, body in enumerate(chain)]
    first, tags = _chain(folder, chain)
    found = {p for p in _problems(first) if p[0] == path}
    assert found == {(path, f"f{at + above}.toml", tags[at + above][tag])}


def test_a_grandchild_of_a_base_names_the_middle_file(tmp_path: Path) -> None:
    """A base's key that a middle file replaces is the middle file's, and the base's
    line names nothing of it."""
    files = [
        "",
        '[emergencies.kinds.absconded]  # @a\ntitle = "gone"\n',
        '[emergencies.kinds.absconded]\nplan = "response"\n',
    ]
    first, tags = _chain(tmp_path, files)
    found = {p for p in _problems(first) if p[0] == "emergencies.kinds.absconded.plan"}
    assert found == {("emergencies.kinds.absconded.plan", "f1.toml", tags[1]["a"])}
