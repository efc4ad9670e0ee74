"""Policy load errors name the user's file, the line, the field and what was expected.

Each row is a small policy that extends a shipped one, with one mistake: the problem it
gets names the extending file, the line of the offending key or table, a text of the
message, and the "did you mean" suggestion where a near name exists.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from collectrules.cli import main
from collectrules.errors import PolicyError
from collectrules.policy import load_policy

#: (id, policy text, path of the problem, message text, line, suggestion)
BAD = [
    (
        "disable-typo",
        'extends = "default"\nid = "c"\ndisable = [\n  "R-Q1-GRACE",\n  "R-Q4-REVEIW",\n]\n',
        "disable[1]",
        "no rule 'R-Q4-REVEIW' to disable",
        5,
        "R-Q4-REVIEW",
    ),
    (
        "remedies-rule-array-typo",
        'extends = "default"\nid = "c"\n\n[[remedies.rule]]\nid = "X-1"\neffect = "allow"\n',
        "remedies.rule",
        "unknown key",
        4,
        "rules",
    ),
    (
        "layer-values-dropped-by-child",
        'extends = "default"\nid = "c"\n\n[[layers]]\nid = "presumption"\n'
        'values = ["none", "late", "silent_past_escalation"]\n'
        'labels = { none = ["a", "b"], late = ["c", "d"] }\n',
        "layers[presumption].values",
        "rule 'PRESUME-P3' of <default> gives 'past_escalation', which is not one of these",
        6,
        "silent_past_escalation",
    ),
    (
        "layer-hit-policy-changed-by-child",
        'extends = "default"\nid = "c"\n\n[[layers]]\nid = "presumption"\n'
        'hit_policy = "collect_sum"\nbands = [{ min = 0, value = "none" }]\n',
        "layers[presumption].hit_policy",
        "rule 'PRESUME-LATE' of <default> has none",
        6,
        None,
    ),
    (
        "named-condition-override-broken-in-base-rule",
        'extends = "default"\nid = "c"\n\n[conditions]\nimpaired = "quadrant == \'Q1\'"\n',
        "conditions.impaired",
        "rule 'A-SHORT' of <default> cannot use it",
        5,
        None,
    ),
    (
        "conflict-value-typo",
        'extends = "default"\nid = "c"\n\n[remedies]\nconflict = "blok_wins"\n',
        "remedies.conflict",
        "got 'blok_wins'",
        5,
        "block_wins",
    ),
    (
        "signal-dimension-typo",
        'extends = "default"\nid = "c"\n\n[signals.my_sign]\ndimension = "abilty"\n'
        'polarity = "negative"\n',
        "signals.my_sign.dimension",
        "got 'abilty'",
        5,
        "ability",
    ),
    (
        "signal-polarity-typo",
        'extends = "default"\nid = "c"\n\n[signals.my_sign]\ndimension = "ability"\n'
        'polarity = "negatve"\n',
        "signals.my_sign.polarity",
        "got 'negatve'",
        6,
        "negative",
    ),
    (
        "guardrail-kind-key-typo",
        'extends = "default"\nid = "c"\n\n[guardrails.MINE]\ntitle = "m"\n\n'
        '[[guardrails.MINE.rules]]\nid = "MY-HOURS"\nknd = "hours"\nreason = "r"\n',
        "guardrails.MINE.rules[MY-HOURS].knd",
        "unknown key",
        9,
        "kind",
    ),
    (
        "parameter-named-like-a-layer-output",
        'extends = "default"\nid = "c"\n\n[parameters.quadrant]\nvalue = 3\n',
        "parameters.quadrant",
        "has the name of the output of layer 'quadrant'",
        4,
        None,
    ),
    (
        "duplicate-layer-value",
        'extends = "default"\nid = "c"\n\n[[layers]]\nid = "tier"\noutput = "tier"\n'
        'values = ["low", "high", "low"]\ndefault = "low"\n',
        "layers[tier].values[2]",
        "'low' is listed twice",
        7,
        None,
    ),
    (
        "duplicate-band-minimum",
        'extends = "default"\nid = "c"\n\n[[layers]]\nid = "tier"\noutput = "tier"\n'
        'values = ["low", "high"]\nhit_policy = "collect_sum"\n'
        'bands = [{ min = 0, value = "low" }, { min = 0, value = "high" }]\n'
        '[[layers.rules]]\nid = "T-1"\nwhen = "dpd > 1"\nscore = 1\nreason = "r"\n',
        "layers[tier].bands[1].min",
        "another band has the minimum 0",
        9,
        None,
    ),
]


@pytest.mark.parametrize(
    ("text", "path", "message", "line", "suggestion"),
    [row[1:] for row in BAD],
    ids=[row[0] for row in BAD],
)
def test_a_bad_policy_is_named_at_its_file_and_line(
    tmp_path: Path, text: str, path: str, message: str, line: int, suggestion: str | None
) -> None:
    file = tmp_path / "child.toml"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(file)
    found = [p for p in info.value.problems if p.path == path]
    assert found, [str(p) for p in info.value.problems]
    problem = found[0]
    assert message in problem.message
    assert (problem.source, problem.line, problem.suggestion) == (str(file), line, suggestion)
    # No problem of the file is blamed on the base policy it extends.
    assert all(p.source == str(file) for p in info.value.problems)


def test_check_names_the_file_and_line_of_an_unknown_citation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "child.toml"
    file.write_text(
        'extends = "default"\nid = "c"\n\n[parameters.extra_days]\nvalue = 3\n'
        'cites = ["NOPE-2"]\n\n[[remedies.rules]]\nid = "X-1"\neffect = "block"\n'
        'remedy = "extend"\nwhen = "dpd > extra_days"\nreason = "r"\ncites = ["NOPE-1"]\n',
        encoding="utf-8",
    )
    code = main(["check", str(file)])
    out = capsys.readouterr().out
    assert code == 1
    assert f"[citation] {file}:14: remedies[X-1].cites: unknown clause 'NOPE-1'" in out
    assert f"[citation] {file}:6: parameters.extra_days.cites: unknown clause 'NOPE-2'" in out


def test_us_regf_lists_only_the_presumptions_it_can_give(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """us_regf disables the default's P3 presumption rules, so its presumption layer has
    only 'none' and 'late'; check finds no value it never gives."""
    policy = load_policy("us_regf")
    layer = next(layer for layer in policy.layers if layer.id == "presumption")
    assert layer.values == ("none", "late")
    assert main(["check", "us_regf"]) == 0
    assert "[unreachable]" not in capsys.readouterr().out
